//! Enterprise profiling rules: company-name normalisation and safety-risk
//! grading from inspection history.

use crate::common::text::{fold_width, is_space, to_simplified};

/// Legal-form words removed from a company name (longest first).
const LEGAL_FORMS: &[&str] = &[
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "特殊普通合伙",
    "有限合伙企业",
    "普通合伙企业",
    "合伙企业",
    "有限合伙",
    "普通合伙",
    "个人独资企业",
    "个人独资",
];

/// Region names removed from the start of a name or from brackets:
/// provinces, Shandong's prefecture cities, Yantai's counties and districts
/// (current and retired), and the provincial capitals and large cities most
/// often used as prefixes.
const REGIONS: &[&str] = &[
    // Provinces (full names first so they win over the short names).
    "内蒙古自治区",
    "广西壮族自治区",
    "西藏自治区",
    "宁夏回族自治区",
    "新疆维吾尔自治区",
    "黑龙江省",
    "北京市",
    "天津市",
    "上海市",
    "重庆市",
    "河北省",
    "山西省",
    "辽宁省",
    "吉林省",
    "江苏省",
    "浙江省",
    "安徽省",
    "福建省",
    "江西省",
    "山东省",
    "河南省",
    "湖北省",
    "湖南省",
    "广东省",
    "海南省",
    "四川省",
    "贵州省",
    "云南省",
    "陕西省",
    "甘肃省",
    "青海省",
    "内蒙古",
    "黑龙江",
    "北京",
    "天津",
    "上海",
    "重庆",
    "河北",
    "山西",
    "辽宁",
    "吉林",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "海南",
    "四川",
    "贵州",
    "云南",
    "陕西",
    "甘肃",
    "青海",
    "广西",
    "西藏",
    "宁夏",
    "新疆",
    // Shandong's prefecture cities.
    "济南市",
    "青岛市",
    "淄博市",
    "枣庄市",
    "东营市",
    "烟台市",
    "潍坊市",
    "济宁市",
    "泰安市",
    "威海市",
    "日照市",
    "临沂市",
    "德州市",
    "聊城市",
    "滨州市",
    "菏泽市",
    "济南",
    "青岛",
    "淄博",
    "枣庄",
    "东营",
    "烟台",
    "潍坊",
    "济宁",
    "泰安",
    "威海",
    "日照",
    "临沂",
    "德州",
    "聊城",
    "滨州",
    "菏泽",
    // Yantai's districts and counties.
    "芝罘区",
    "福山区",
    "牟平区",
    "莱山区",
    "蓬莱区",
    "龙口市",
    "莱阳市",
    "莱州市",
    "招远市",
    "栖霞市",
    "海阳市",
    "蓬莱市",
    "长岛县",
    "芝罘",
    "福山",
    "牟平",
    "莱山",
    "蓬莱",
    "龙口",
    "莱阳",
    "莱州",
    "招远",
    "栖霞",
    "海阳",
    "长岛",
    // Large cities elsewhere.
    "石家庄市",
    "太原市",
    "呼和浩特市",
    "沈阳市",
    "大连市",
    "长春市",
    "哈尔滨市",
    "南京市",
    "苏州市",
    "无锡市",
    "杭州市",
    "宁波市",
    "合肥市",
    "福州市",
    "厦门市",
    "南昌市",
    "郑州市",
    "武汉市",
    "长沙市",
    "广州市",
    "深圳市",
    "南宁市",
    "海口市",
    "成都市",
    "贵阳市",
    "昆明市",
    "西安市",
    "兰州市",
    "西宁市",
    "银川市",
    "乌鲁木齐市",
    "石家庄",
    "呼和浩特",
    "沈阳",
    "大连",
    "长春",
    "哈尔滨",
    "南京",
    "苏州",
    "无锡",
    "杭州",
    "宁波",
    "合肥",
    "福州",
    "厦门",
    "南昌",
    "郑州",
    "武汉",
    "长沙",
    "广州",
    "深圳",
    "南宁",
    "海口",
    "成都",
    "贵阳",
    "昆明",
    "西安",
    "兰州",
    "西宁",
    "银川",
    "乌鲁木齐",
];

fn is_open(c: char) -> bool {
    matches!(
        c,
        '(' | '（' | '【' | '〔' | '[' | '{' | '〈' | '《' | '「' | '『'
    )
}

fn is_close(c: char) -> bool {
    matches!(
        c,
        ')' | '）' | '】' | '〕' | ']' | '}' | '〉' | '》' | '」' | '』'
    )
}

/// True if a bracketed part is only a region or a legal form.
fn removable_bracket(content: &str) -> bool {
    REGIONS.contains(&content) || LEGAL_FORMS.contains(&content)
}

/// Writes the normalised form of a company name: full-width folded,
/// traditional → simplified, spaces removed, Latin upper-cased, bracketed
/// regions and legal forms ("(烟台)", "(普通合伙)") dropped and other
/// brackets unwrapped, legal-form words (有限公司, 股份有限公司, …) removed,
/// leading region names (山东省, 烟台市, 烟台, …) removed, and a trailing
/// 公司 removed (分公司 kept: a branch is another entity).
pub fn company_name_normalize_into(s: &str, out: &mut String) {
    // 1. Fold, and resolve brackets.
    let mut flat = String::with_capacity(s.len());
    let mut bracket: Option<String> = None;
    for c in s.chars() {
        let c = fold_width(c);
        if is_space(c) {
            continue;
        }
        let c = to_simplified(c).to_ascii_uppercase();
        if is_open(c) {
            if let Some(b) = bracket.take() {
                flat.push_str(&b);
            }
            bracket = Some(String::new());
        } else if is_close(c) {
            if let Some(b) = bracket.take() {
                if !removable_bracket(&b) {
                    flat.push_str(&b);
                }
            }
        } else if let Some(b) = bracket.as_mut() {
            b.push(c);
        } else {
            flat.push(c);
        }
    }
    if let Some(b) = bracket {
        flat.push_str(&b);
    }
    // 2. Legal forms anywhere ("XX有限公司烟台分公司" → "XX烟台分公司").
    for form in LEGAL_FORMS {
        if flat.contains(form) {
            flat = flat.replace(form, "");
        }
    }
    // 3. Leading regions, repeatedly ("山东省烟台市…"), never emptying it.
    let mut t = flat.as_str();
    'strip: loop {
        for r in REGIONS {
            if let Some(rest) = t.strip_prefix(r) {
                // "烟台市" is not "烟台" + "市": never leave a bare suffix.
                let bare_suffix = rest.starts_with(['市', '省', '区', '县']);
                if !rest.is_empty() && !bare_suffix {
                    t = rest;
                    continue 'strip;
                }
            }
        }
        break;
    }
    // 4. A trailing 公司, but not 分公司 or a name that is only 公司.
    if let Some(rest) = t.strip_suffix("公司") {
        if !rest.is_empty() && !rest.ends_with('分') && !rest.ends_with('总') {
            t = rest;
        }
    }
    out.push_str(t);
}

/// The normalised company name (see [`company_name_normalize_into`]).
pub fn company_name_normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    company_name_normalize_into(s, &mut out);
    out
}

/// Safety-risk grades (安全风险等级), with the colours of the four-colour
/// risk map (红橙黄蓝).
pub mod grade {
    /// 重大风险 (red).
    pub const MAJOR: &str = "重大风险";
    /// 较大风险 (orange).
    pub const HIGH: &str = "较大风险";
    /// 一般风险 (yellow).
    pub const MODERATE: &str = "一般风险";
    /// 低风险 (blue).
    pub const LOW: &str = "低风险";
    /// No inspection on record: not graded.
    pub const UNGRADED: &str = "未评级";
}

/// Grades an enterprise's safety risk from its inspection history (over
/// whatever period the caller selected):
///
/// - 重大风险: a major hazard not rectified in time (`major ≥ 1` and
///   `overdue ≥ 1`), or 3 or more major hazards;
/// - 较大风险: any major hazard, or 3 or more overdue rectifications, or on
///   average 2 or more hazards per inspection;
/// - 一般风险: any overdue rectification, or 0.5 or more hazards per
///   inspection;
/// - 低风险: otherwise;
/// - 未评级: no inspections and nothing found.
///
/// `None` if a count is negative.
pub fn safety_risk_grade(
    inspections: i64,
    hazards: i64,
    major_hazards: i64,
    overdue: i64,
) -> Option<&'static str> {
    if inspections < 0 || hazards < 0 || major_hazards < 0 || overdue < 0 {
        return None;
    }
    if inspections == 0 && hazards == 0 && major_hazards == 0 && overdue == 0 {
        return Some(grade::UNGRADED);
    }
    // Hazards per inspection, compared without division.
    let per_inspection_at_least = |num: i64, den: i64| {
        (hazards as i128) * (den as i128) >= (num as i128) * (inspections.max(1) as i128)
    };
    Some(
        if (major_hazards >= 1 && overdue >= 1) || major_hazards >= 3 {
            grade::MAJOR
        } else if major_hazards >= 1 || overdue >= 3 || per_inspection_at_least(2, 1) {
            grade::HIGH
        } else if overdue >= 1 || per_inspection_at_least(1, 2) {
            grade::MODERATE
        } else {
            grade::LOW
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_names() {
        assert_eq!(
            company_name_normalize("山东省烟台市张裕葡萄酿酒股份有限公司"),
            "张裕葡萄酿酒"
        );
        assert_eq!(
            company_name_normalize("烟台张裕葡萄酿酒股份有限公司"),
            "张裕葡萄酿酒"
        );
        assert_eq!(
            company_name_normalize("张裕葡萄酿酒（烟台）有限公司"),
            "张裕葡萄酿酒"
        );
        assert_eq!(
            company_name_normalize("张裕葡萄酿酒【烟台】有限责任公司"),
            "张裕葡萄酿酒"
        );
        assert_eq!(
            company_name_normalize("华为技术有限公司烟台分公司"),
            "华为技术烟台分公司"
        );
        assert_eq!(
            company_name_normalize("烟台某某律师事务所（普通合伙）"),
            "某某律师事务所"
        );
        assert_eq!(company_name_normalize("烟台市"), "烟台市");
        assert_eq!(company_name_normalize("abc 科技 公司"), "ABC科技");
        assert_eq!(company_name_normalize("公司"), "公司");
        assert_eq!(company_name_normalize("(烟台"), "烟台");
        assert_eq!(company_name_normalize(""), "");
    }

    #[test]
    fn grades() {
        assert_eq!(safety_risk_grade(4, 2, 1, 1), Some(grade::MAJOR));
        assert_eq!(safety_risk_grade(4, 6, 3, 0), Some(grade::MAJOR));
        assert_eq!(safety_risk_grade(4, 2, 1, 0), Some(grade::HIGH));
        assert_eq!(safety_risk_grade(2, 4, 0, 0), Some(grade::HIGH));
        assert_eq!(safety_risk_grade(4, 2, 0, 0), Some(grade::MODERATE));
        assert_eq!(safety_risk_grade(10, 1, 0, 1), Some(grade::MODERATE));
        assert_eq!(safety_risk_grade(10, 1, 0, 0), Some(grade::LOW));
        assert_eq!(safety_risk_grade(0, 0, 0, 0), Some(grade::UNGRADED));
        assert_eq!(safety_risk_grade(0, 1, 0, 0), Some(grade::MODERATE));
        assert_eq!(safety_risk_grade(-1, 0, 0, 0), None);
        assert_eq!(
            safety_risk_grade(i64::MAX, i64::MAX, 0, 0),
            Some(grade::MODERATE)
        );
    }
}
