//! Word pools for people, places and businesses, and the weighted picking the
//! generator does over them. The frequencies are rough public figures for
//! Shandong's Jiaodong peninsula, good enough to make matching and grouping
//! behave as on real data (many 王 and 张, a long tail of rare surnames).

use rand::Rng;

/// A list of items with integer weights, picked by binary search.
pub(crate) struct Weighted<T: Copy> {
    items: Vec<T>,
    cumulative: Vec<u32>,
}

impl<T: Copy> Weighted<T> {
    /// Builds from `(item, weight)` pairs; zero weights never get picked.
    pub(crate) fn new(pairs: &[(T, u32)]) -> Self {
        let mut total = 0;
        let mut items = Vec::with_capacity(pairs.len());
        let mut cumulative = Vec::with_capacity(pairs.len());
        for &(item, w) in pairs {
            total += w;
            items.push(item);
            cumulative.push(total);
        }
        Weighted { items, cumulative }
    }

    /// One item, with probability proportional to its weight.
    pub(crate) fn pick(&self, rng: &mut impl Rng) -> T {
        let total = self.cumulative.last().copied().unwrap_or(0);
        if total == 0 {
            return self.items[0];
        }
        let x = rng.random_range(0..total);
        let i = self.cumulative.partition_point(|&c| c <= x);
        self.items[i.min(self.items.len() - 1)]
    }
}

/// Picks uniformly from a non-empty slice.
pub(crate) fn one<'a, T>(rng: &mut impl Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Surnames with weights per ten thousand, Jiaodong flavour (姜, 曲, 隋, 鞠, 初,
/// 衣, 迟, 牟 are far more common in Yantai than nationally), including the rare
/// ones whose pinyin trips up naive matching.
pub(crate) const SURNAMES: &[(&str, u32)] = &[
    ("王", 900),
    ("张", 700),
    ("李", 650),
    ("刘", 600),
    ("孙", 380),
    ("于", 350),
    ("姜", 330),
    ("杨", 300),
    ("陈", 280),
    ("赵", 260),
    ("徐", 250),
    ("林", 230),
    ("曲", 200),
    ("宋", 190),
    ("高", 180),
    ("郭", 170),
    ("董", 150),
    ("吕", 140),
    ("周", 140),
    ("吴", 130),
    ("黄", 120),
    ("马", 120),
    ("崔", 100),
    ("隋", 100),
    ("鞠", 90),
    ("初", 90),
    ("韩", 90),
    ("衣", 80),
    ("迟", 80),
    ("郝", 80),
    ("田", 80),
    ("胡", 80),
    ("朱", 80),
    ("栾", 70),
    ("邹", 70),
    ("冯", 70),
    ("曹", 70),
    ("牟", 60),
    ("慕", 60),
    ("柳", 60),
    ("宫", 60),
    ("丛", 60),
    ("邢", 60),
    ("任", 60),
    ("梁", 60),
    ("许", 60),
    ("修", 50),
    ("袁", 50),
    ("谭", 50),
    ("孔", 50),
    ("范", 50),
    ("石", 50),
    ("程", 50),
    ("谢", 50),
    ("唐", 50),
    ("薛", 50),
    ("付", 50),
    ("鲁", 40),
    ("邓", 40),
    ("毛", 40),
    ("滕", 40),
    ("臧", 40),
    ("蒋", 40),
    ("沈", 40),
    ("苏", 40),
    ("卢", 40),
    ("贾", 40),
    ("尹", 40),
    ("秦", 40),
    ("白", 40),
    ("阎", 40),
    ("侯", 40),
    ("夏", 40),
    ("潘", 40),
    ("葛", 40),
    ("姚", 40),
    ("蔡", 40),
    ("闫", 40),
    ("史", 40),
    ("纪", 40),
    ("贺", 30),
    ("车", 30),
    ("盛", 30),
    ("叶", 30),
    ("钱", 30),
    ("段", 30),
    ("乔", 30),
    ("方", 30),
    ("彭", 30),
    ("戴", 30),
    ("曾", 25),
    ("汤", 20),
    ("龚", 20),
    ("顾", 20),
    ("单", 20),
    ("解", 15),
    ("仇", 12),
    ("朴", 8),
    ("区", 5),
    ("欧阳", 5),
    ("上官", 3),
    ("司马", 2),
    ("诸葛", 2),
];

/// Characters of given names by sex and birth era: older people were named 建国
/// and 桂英, younger ones 梓涵 and 浩宇.
pub(crate) fn given_chars(male: bool, birth_year: i32) -> &'static [&'static str] {
    match (male, birth_year) {
        (true, ..=1964) => &[
            "建", "国", "德", "胜", "庆", "志", "福", "永", "学", "文", "振", "华", "广", "明",
            "玉", "山", "成", "树", "春", "海", "长", "宝", "金", "元", "民", "忠", "军", "田",
            "有", "贵",
        ],
        (true, 1965..=1994) => &[
            "伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华",
            "飞", "波", "斌", "峰", "亮", "东", "海", "林", "宁", "健", "俊", "凯", "新", "光",
            "志", "洪",
        ],
        (true, _) => &[
            "浩", "宇", "轩", "子", "梓", "睿", "泽", "博", "晨", "昊", "一", "铭", "嘉", "天",
            "然", "鑫", "文", "航", "奕", "皓", "辰", "翔", "宸", "锦", "俊", "凯", "硕", "宁",
            "逸", "豪",
        ],
        (false, ..=1964) => &[
            "桂", "英", "秀", "兰", "凤", "玉", "珍", "芝", "淑", "花", "云", "荣", "美", "琴",
            "素", "春", "翠", "菊", "香", "霞", "爱", "月", "秋", "莲", "娥",
        ],
        (false, 1965..=1994) => &[
            "丽", "艳", "娟", "霞", "燕", "玲", "敏", "静", "芳", "娜", "红", "梅", "琳", "雪",
            "婷", "倩", "颖", "慧", "洁", "萍", "晓", "丹", "莉", "华", "琴",
        ],
        (false, _) => &[
            "梓", "涵", "萱", "可", "雨", "思", "佳", "怡", "妍", "雅", "悦", "欣", "诗", "语",
            "彤", "诺", "一", "子", "心", "馨", "琪", "钰", "晴", "瑶", "涵",
        ],
    }
}

/// A given name of one or two characters.
pub(crate) fn given_name(rng: &mut impl Rng, male: bool, birth_year: i32) -> String {
    let pool = given_chars(male, birth_year);
    let single = match birth_year {
        ..=1964 => 0.25,
        1965..=1994 => 0.45,
        _ => 0.2,
    };
    let a = *one(rng, pool);
    if rng.random_bool(single) {
        return a.to_string();
    }
    if !male && rng.random_bool(0.04) {
        return format!("{a}{a}");
    }
    let mut b = *one(rng, pool);
    if b == a {
        b = pool[(pool.iter().position(|c| *c == a).unwrap_or(0) + 1) % pool.len()];
    }
    format!("{a}{b}")
}

/// Simplified → traditional forms of common name characters (for the dirty
/// province list: 張偉 must still match 张伟).
pub(crate) const TRADITIONAL: &[(char, char)] = &[
    ('张', '張'),
    ('刘', '劉'),
    ('陈', '陳'),
    ('杨', '楊'),
    ('赵', '趙'),
    ('黄', '黃'),
    ('吴', '吳'),
    ('孙', '孫'),
    ('马', '馬'),
    ('冯', '馮'),
    ('韩', '韓'),
    ('邓', '鄧'),
    ('许', '許'),
    ('谢', '謝'),
    ('卢', '盧'),
    ('苏', '蘇'),
    ('蒋', '蔣'),
    ('叶', '葉'),
    ('钱', '錢'),
    ('汤', '湯'),
    ('贺', '賀'),
    ('丛', '叢'),
    ('栾', '欒'),
    ('伟', '偉'),
    ('丽', '麗'),
    ('华', '華'),
    ('国', '國'),
    ('军', '軍'),
    ('红', '紅'),
    ('东', '東'),
    ('兰', '蘭'),
    ('凤', '鳳'),
    ('庆', '慶'),
    ('宝', '寶'),
    ('贵', '貴'),
    ('荣', '榮'),
    ('洁', '潔'),
    ('静', '靜'),
    ('艳', '艷'),
    ('刚', '剛'),
    ('涛', '濤'),
    ('鹏', '鵬'),
    ('辉', '輝'),
    ('飞', '飛'),
    ('杰', '傑'),
    ('强', '強'),
    ('凯', '凱'),
    ('宁', '寧'),
    ('晓', '曉'),
    ('云', '雲'),
    ('颖', '穎'),
    ('泽', '澤'),
    ('轩', '軒'),
    ('诗', '詩'),
    ('诺', '諾'),
    ('铭', '銘'),
    ('长', '長'),
    ('学', '學'),
    ('胜', '勝'),
    ('莲', '蓮'),
    ('爱', '愛'),
    ('梦', '夢'),
    ('龙', '龍'),
];

/// Characters commonly typed in place of each other (same or near reading):
/// the typos a clerk makes when keying a name.
pub(crate) const HOMOPHONES: &[(char, char)] = &[
    ('张', '章'),
    ('王', '汪'),
    ('李', '黎'),
    ('刘', '柳'),
    ('徐', '许'),
    ('于', '余'),
    ('姜', '江'),
    ('林', '琳'),
    ('伟', '卫'),
    ('丽', '莉'),
    ('军', '君'),
    ('静', '婧'),
    ('明', '铭'),
    ('华', '桦'),
    ('玲', '琳'),
    ('红', '宏'),
    ('敏', '民'),
    ('杰', '洁'),
    ('涛', '滔'),
    ('磊', '蕾'),
    ('芳', '方'),
    ('艳', '燕'),
    ('霞', '侠'),
    ('鹏', '朋'),
    ('辉', '晖'),
    ('飞', '菲'),
    ('斌', '彬'),
    ('宇', '雨'),
    ('浩', '皓'),
    ('凯', '恺'),
    ('俊', '骏'),
    ('峰', '锋'),
    ('勇', '永'),
    ('刚', '钢'),
    ('超', '潮'),
    ('婷', '亭'),
    ('倩', '茜'),
    ('颖', '莹'),
    ('慧', '惠'),
    ('云', '芸'),
    ('萍', '平'),
    ('欣', '馨'),
    ('悦', '月'),
    ('涵', '寒'),
    ('怡', '宜'),
    ('妍', '研'),
    ('雅', '亚'),
    ('桂', '贵'),
    ('英', '瑛'),
    ('秀', '绣'),
    ('兰', '岚'),
    ('晨', '辰'),
    ('泽', '择'),
    ('睿', '瑞'),
    ('建', '健'),
    ('国', '果'),
    ('志', '智'),
];

/// The name with every character that has a traditional form converted.
pub(crate) fn to_traditional(name: &str) -> String {
    name.chars()
        .map(|c| {
            TRADITIONAL
                .iter()
                .find(|(s, _)| *s == c)
                .map(|(_, t)| *t)
                .unwrap_or(c)
        })
        .collect()
}

/// The name with one character (given name first) replaced by a homophone;
/// unchanged if none of its characters has one.
pub(crate) fn with_typo(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    for i in (0..chars.len()).rev() {
        if let Some((_, h)) = HOMOPHONES.iter().find(|(s, _)| *s == chars[i]) {
            let mut out = chars.clone();
            out[i] = *h;
            return out.into_iter().collect();
        }
    }
    name.to_string()
}

/// Names for communities (社区); a town draws without repeats.
pub(crate) const COMMUNITY_STEMS: &[&str] = &[
    "东山",
    "幸福",
    "海港",
    "南山",
    "西山",
    "金海",
    "福海",
    "华安",
    "毓岚",
    "新桥",
    "青年",
    "朝阳",
    "红旗",
    "建设",
    "新华",
    "和平",
    "长安",
    "海滨",
    "锦华",
    "恒丰",
    "昌盛",
    "盛泉",
    "富民",
    "振华",
    "明珠",
    "滨海",
    "凤鸣",
    "世纪",
    "花园",
    "文化",
    "胜利",
    "解放",
    "民主",
    "前进",
    "向阳",
    "迎春",
    "丽园",
    "鸿福",
    "佳苑",
    "海韵",
    "观海",
    "望海",
    "翠屏",
    "金山",
    "银河",
    "松林",
    "桃源",
    "玉泉",
    "清泉",
    "龙湾",
    "虹口",
    "万华",
    "大海阳",
    "二马",
    "三站",
    "环山",
    "通伸",
    "芝罘",
    "奇山",
    "东港",
    "祥和",
    "瑞丰",
    "康乐",
    "安居",
    "宜居",
    "润园",
    "锦绣",
    "星海",
    "天润",
    "紫荆",
    "凤凰",
    "金沙",
];

/// Endings of village names (王家庄, 李家疃, 刘家夼 …).
pub(crate) const VILLAGE_ENDINGS: &[&str] = &[
    "庄", "疃", "沟", "夼", "洼", "泊", "屯", "埠", "岭", "店", "寨", "集", "崖", "河", "台",
    "庄子", "口", "岚", "顶", "院",
];

/// Endings of village names made of a direction and a landform (北沟, 南河).
pub(crate) const LANDFORMS: &[&str] = &[
    "沟", "河", "岭", "泊", "崖", "夼", "庄", "洼", "埠", "疃", "山", "台",
];

/// Prefixes some village names carry (东王家庄, 后李家疃).
pub(crate) const VILLAGE_PREFIXES: &[&str] =
    &["东", "西", "南", "北", "前", "后", "大", "小", "上", "下"];

/// Street and road names used in addresses.
pub(crate) const ROADS: &[&str] = &[
    "幸福路",
    "解放路",
    "胜利路",
    "南大街",
    "北马路",
    "环山路",
    "青年路",
    "红旗中路",
    "西南河路",
    "建设路",
    "芝罘屯路",
    "毓璜顶东路",
    "观海路",
    "滨海路",
    "港城大街",
    "迎春大街",
    "长江路",
    "黄河路",
    "珠江路",
    "金沙江路",
    "银海路",
    "山海路",
    "府前街",
    "文化路",
    "朝阳街",
    "新华街",
    "民生路",
    "育才路",
    "振华街",
    "和平路",
    "东方路",
    "明珠路",
    "海港路",
    "通世路",
    "只楚路",
    "凤凰台路",
    "上夼西路",
    "初家大街",
    "永安路",
    "文昌路",
];

/// 字号 (trade names) of businesses.
pub(crate) const TRADE_NAMES: &[&str] = &[
    "鑫源", "金盛", "恒通", "宏达", "海洋", "福瑞", "瑞丰", "正和", "万通", "隆泰", "德润", "聚福",
    "永盛", "康达", "泰和", "顺达", "金海", "润德", "博远", "汇丰", "昌隆", "中兴", "华信", "鼎盛",
    "天成", "利民", "新源", "宏图", "祥和", "信诚", "嘉禾", "东方", "佳美", "龙腾", "凯瑞", "君安",
    "金桥", "盛世", "百川", "海韵", "蓝海", "胶东", "港城", "仙境", "金都", "昆嵛", "芝罘", "齐鲁",
    "鲁东", "振兴", "兴业", "富通",
];
