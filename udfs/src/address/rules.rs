//! A rule-based parser for Chinese postal addresses, and canonical address
//! keys for household blocking.
//!
//! The parser walks the address once from the largest division to the
//! smallest: each level is found by its suffix (省, 市, 区/县, 街道/镇/乡,
//! 村/社区, 路/街, 号, 号楼/栋, 单元, 室) within a short window after the
//! previous one. It needs no gazetteer, so it cannot tell a prefecture city
//! from a county-level city by name alone: a small table of Shandong's
//! prefecture cities and the rule "a 市 directly followed by a town is a
//! county-level city" settle the common cases.

use crate::common::text::{
    chinese_numeral_value_chars, fold_width, is_chinese_numeral_char, is_space, to_simplified,
};

/// Provinces: full name and the short name used in everyday writing.
const PROVINCES: &[(&str, &str)] = &[
    ("北京市", "北京"),
    ("天津市", "天津"),
    ("上海市", "上海"),
    ("重庆市", "重庆"),
    ("河北省", "河北"),
    ("山西省", "山西"),
    ("辽宁省", "辽宁"),
    ("吉林省", "吉林"),
    ("黑龙江省", "黑龙江"),
    ("江苏省", "江苏"),
    ("浙江省", "浙江"),
    ("安徽省", "安徽"),
    ("福建省", "福建"),
    ("江西省", "江西"),
    ("山东省", "山东"),
    ("河南省", "河南"),
    ("湖北省", "湖北"),
    ("湖南省", "湖南"),
    ("广东省", "广东"),
    ("海南省", "海南"),
    ("四川省", "四川"),
    ("贵州省", "贵州"),
    ("云南省", "云南"),
    ("陕西省", "陕西"),
    ("甘肃省", "甘肃"),
    ("青海省", "青海"),
    ("台湾省", "台湾"),
    ("内蒙古自治区", "内蒙古"),
    ("广西壮族自治区", "广西"),
    ("西藏自治区", "西藏"),
    ("宁夏回族自治区", "宁夏"),
    ("新疆维吾尔自治区", "新疆"),
    ("香港特别行政区", "香港"),
    ("澳门特别行政区", "澳门"),
];

/// Municipalities: the province is also the city.
const MUNICIPALITIES: &[&str] = &["北京市", "天津市", "上海市", "重庆市"];

/// Prefecture-level cities of Shandong, so that "烟台市幸福街道" (district
/// omitted) keeps 烟台市 as the city rather than reading it as a county-level
/// city.
const PREFECTURE_CITIES: &[&str] = &[
    "济南", "青岛", "淄博", "枣庄", "东营", "烟台", "潍坊", "济宁", "泰安", "威海", "日照", "临沂",
    "德州", "聊城", "滨州", "菏泽",
];

/// The fields of a parsed address, in order from largest to smallest.
pub const FIELDS: [&str; 11] = [
    "province", "city", "district", "town", "village", "road", "number", "building", "unit",
    "room", "rest",
];

/// Index of each level in [`Address::parts`].
pub mod level {
    pub const PROVINCE: usize = 0;
    pub const CITY: usize = 1;
    pub const DISTRICT: usize = 2;
    pub const TOWN: usize = 3;
    pub const VILLAGE: usize = 4;
    pub const ROAD: usize = 5;
    pub const NUMBER: usize = 6;
    pub const BUILDING: usize = 7;
    pub const UNIT: usize = 8;
    pub const ROOM: usize = 9;
    pub const REST: usize = 10;
}

/// A parsed address: each field as text (empty if absent). Names keep their
/// suffix (芝罘区, 幸福街道); number, building, unit and room are canonical
/// (Arabic numerals, upper-case letters, no suffix: 12, 3, 2, 502).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Address {
    /// The fields in the order of [`FIELDS`].
    pub parts: [String; 11],
}

impl Address {
    /// The field at a [`level`] index.
    pub fn get(&self, i: usize) -> &str {
        &self.parts[i]
    }

    /// True if nothing was recognised.
    pub fn is_empty(&self) -> bool {
        self.parts[..level::REST].iter().all(String::is_empty)
    }
}

/// Reusable buffers for parsing many addresses.
#[derive(Default)]
pub struct AddressScratch {
    chars: Vec<char>,
    parsed: Address,
}

impl AddressScratch {
    /// Parses `s` into the scratch's own [`Address`] and writes its key at
    /// `depth` into `out` (see [`address_key_into`]); false if no key.
    pub fn key_into(&mut self, s: &str, depth: usize, out: &mut String) -> bool {
        let mut parsed = std::mem::take(&mut self.parsed);
        address_parse_into(self, s, &mut parsed);
        let ok = address_key_into(&parsed, depth, out);
        self.parsed = parsed;
        ok
    }
}

/// Longest name (in characters) accepted for each administrative level.
const NAME_WINDOW: usize = 12;

fn starts_with_at(chars: &[char], pos: usize, pat: &str) -> bool {
    (pos..)
        .zip(pat.chars())
        .all(|(i, p)| chars.get(i) == Some(&p))
}

/// Replaces `out` with the characters in `r`, reusing its allocation.
fn set_text(out: &mut String, chars: &[char], r: std::ops::Range<usize>) {
    out.clear();
    out.extend(&chars[r]);
}

/// Finds the first position `e` in (pos, pos + window] where one of the
/// suffixes ends, the name before the suffix being at least one character.
/// Returns (end of match, which suffix).
fn find_suffix(
    chars: &[char],
    pos: usize,
    window: usize,
    suffixes: &[&'static str],
    accept: impl Fn(usize, &str) -> bool,
) -> Option<(usize, &'static str)> {
    let limit = (pos + window).min(chars.len());
    for start in pos + 1..limit {
        for s in suffixes {
            if starts_with_at(chars, start, s) && accept(start, s) {
                return Some((start + s.chars().count(), s));
            }
        }
    }
    None
}

/// A designator (door, building, unit or room number) found in the text,
/// not yet written out.
#[derive(Debug, Clone, Copy)]
enum Desig {
    /// ASCII digits and hyphens, trimmed of outer hyphens: chars[start..end].
    Digits(usize, usize),
    /// The value of a run of Chinese numerals.
    Number(u32),
    /// A single letter (B座).
    Letter(char),
    /// Characters that looked like a designator but are not one (----).
    Nothing,
}

/// Reads a designator at `pos`: a run of digits, a run of Chinese numerals
/// or a letter. Returns it with the end of the run; allocation-free.
fn designator(chars: &[char], pos: usize) -> Option<(Desig, usize)> {
    let mut end = pos;
    while end < chars.len() && (chars[end].is_ascii_digit() || chars[end] == '-') {
        end += 1;
    }
    if end > pos {
        let (mut s, mut e) = (pos, end);
        while s < e && chars[s] == '-' {
            s += 1;
        }
        while e > s && chars[e - 1] == '-' {
            e -= 1;
        }
        return Some((
            if s < e {
                Desig::Digits(s, e)
            } else {
                Desig::Nothing
            },
            end,
        ));
    }
    while end < chars.len() && is_chinese_numeral_char(chars[end]) {
        end += 1;
    }
    if end > pos {
        let value = chinese_numeral_value_chars(chars[pos..end].iter().copied());
        return Some((value.map_or(Desig::Nothing, Desig::Number), end));
    }
    match chars.get(pos) {
        Some(c) if c.is_ascii_alphabetic() => {
            Some((Desig::Letter(c.to_ascii_uppercase()), pos + 1))
        }
        _ => None,
    }
}

/// Writes a designator in canonical form: leading zeros of each hyphenated
/// part dropped (03 = 3), Chinese numerals as Arabic, letters upper-case.
fn write_desig(out: &mut String, chars: &[char], d: Desig) {
    out.clear();
    match d {
        Desig::Digits(start, end) => {
            for (k, part) in chars[start..end].split(|c| *c == '-').enumerate() {
                if k > 0 {
                    out.push('-');
                }
                let zeros = part.iter().take_while(|c| **c == '0').count();
                if zeros == part.len() {
                    out.push('0');
                } else {
                    out.extend(&part[zeros..]);
                }
            }
        }
        Desig::Number(v) => {
            use std::fmt::Write;
            let _ = write!(out, "{v}");
        }
        Desig::Letter(c) => out.push(c),
        Desig::Nothing => {}
    }
}

/// Finds the first designator followed by one of the suffixes, from `pos`
/// on. Returns (designator start, designator, end after suffix).
fn find_designated(
    chars: &[char],
    pos: usize,
    suffixes: &[&str],
    reject_next: &[char],
) -> Option<(usize, Desig, usize)> {
    let mut i = pos;
    while i < chars.len() {
        if let Some((d, end)) = designator(chars, i) {
            if !matches!(d, Desig::Nothing) {
                for s in suffixes {
                    if starts_with_at(chars, end, s) {
                        let after = end + s.chars().count();
                        if chars.get(after).is_some_and(|c| reject_next.contains(c)) {
                            continue;
                        }
                        return Some((i, d, after));
                    }
                }
            }
            // Skip the whole run, not just its first character, so that
            // "12" is not re-read as "2" (and long runs stay linear).
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    None
}

/// Parses an address into `a` (see the module docs), reusing the
/// allocations of its fields and of the scratch buffer.
pub fn address_parse_into(scratch: &mut AddressScratch, s: &str, a: &mut Address) {
    for part in a.parts.iter_mut() {
        part.clear();
    }
    let chars = &mut scratch.chars;
    chars.clear();
    chars.extend(
        s.chars()
            .map(fold_width)
            .filter(|c| !is_space(*c))
            .map(to_simplified),
    );
    let chars = &chars[..];
    let mut pos = 0usize;

    // Province: full name, or the short name when what follows is not a
    // road or street named after the province (山东路).
    let mut province: Option<&'static str> = None;
    for (full, short) in PROVINCES {
        if starts_with_at(chars, pos, full) {
            province = Some(full);
            pos += full.chars().count();
            break;
        }
        if starts_with_at(chars, pos, short) {
            let after = pos + short.chars().count();
            let roadlike = ["路", "街", "道", "大街", "巷", "大道", "省"]
                .iter()
                .any(|r| starts_with_at(chars, after, r));
            // 北京市 / 上海市: the short name followed by 市 is the full name.
            if !roadlike && after < chars.len() {
                province = Some(full);
                pos = after;
                break;
            }
        }
    }
    if let Some(p) = province {
        a.parts[level::PROVINCE].push_str(p);
        if MUNICIPALITIES.contains(&p) {
            a.parts[level::CITY].push_str(p);
            if starts_with_at(chars, pos, "市辖区") {
                pos += 3;
            } else if starts_with_at(chars, pos, "市") {
                pos += 1;
            }
        }
    }

    // City.
    if a.parts[level::CITY].is_empty() {
        let found = find_suffix(
            chars,
            pos,
            10,
            &["自治州", "地区", "盟", "市"],
            |start, s| {
                // 市场 / 市辖区 are not cities.
                !(s == "市"
                    && (starts_with_at(chars, start, "市场")
                        || starts_with_at(chars, start, "市辖")))
            },
        );
        if let Some((end, suffix)) = found {
            let bare = &chars[pos..end - suffix.chars().count()];
            let prefecture = PREFECTURE_CITIES
                .iter()
                .any(|p| p.chars().eq(bare.iter().copied()));
            let town_follows = ["街道", "镇", "乡"]
                .iter()
                .any(|t| find_suffix(chars, end, NAME_WINDOW, &[t], |_, _| true).is_some());
            let district_follows = find_suffix(
                chars,
                end,
                NAME_WINDOW,
                &["区", "县", "市", "旗"],
                |st, _| {
                    !matches!(
                        chars.get(st.wrapping_sub(1)),
                        Some('小' | '社' | '园' | '校' | '厂' | '营' | '库')
                    )
                },
            )
            .is_some();
            if suffix == "市" && !prefecture && town_follows && !district_follows {
                // A county-level city (龙口市东莱街道): it is the district.
                set_text(&mut a.parts[level::DISTRICT], chars, pos..end);
            } else {
                set_text(&mut a.parts[level::CITY], chars, pos..end);
            }
            pos = end;
        }
    }

    // District.
    if a.parts[level::DISTRICT].is_empty() {
        let found = find_suffix(
            chars,
            pos,
            NAME_WINDOW,
            &["自治县", "区", "县", "市", "旗"],
            |start, _| {
                !matches!(
                    chars.get(start.wrapping_sub(1)),
                    Some('小' | '社' | '园' | '校' | '厂' | '营' | '库' | '街')
                ) && !starts_with_at(chars, start, "区域")
                    && !starts_with_at(chars, start, "市场")
            },
        );
        if let Some((end, _)) = found {
            set_text(&mut a.parts[level::DISTRICT], chars, pos..end);
            pos = end;
        }
    }

    // Town (street office, town, township).
    if let Some((end, suffix)) = find_suffix(
        chars,
        pos,
        NAME_WINDOW,
        &["街道办事处", "街道", "镇", "乡", "苏木"],
        |_, _| true,
    ) {
        let name = &mut a.parts[level::TOWN];
        set_text(name, chars, pos..end);
        if suffix == "街道办事处" {
            name.truncate(name.len() - "办事处".len());
        }
        pos = end;
    }

    // Village or residents' community.
    let village_suffixes = [
        "村民委员会",
        "居民委员会",
        "村委会",
        "居委会",
        "社区",
        "嘎查",
        "村",
    ];
    if let Some((end, suffix)) =
        find_suffix(chars, pos, NAME_WINDOW, &village_suffixes, |start, s| {
            // 新村路 is a road, not a village.
            let after = start + s.chars().count();
            !["路", "街", "巷", "大道", "大街", "道", "胡同", "弄"]
                .iter()
                .any(|r| starts_with_at(chars, after, r))
        })
    {
        let name = &mut a.parts[level::VILLAGE];
        set_text(name, chars, pos..end);
        let canonical = match suffix {
            "村民委员会" | "村委会" => Some("村"),
            "居民委员会" | "居委会" => Some("社区"),
            _ => None,
        };
        if let Some(c) = canonical {
            name.truncate(name.len() - suffix.len());
            if !name.ends_with(c) && !name.ends_with("社区") {
                name.push_str(c);
            }
        }
        pos = end;
        // "XX社区居委会": the committee names the same community.
        for tail in ["居委会", "居民委员会", "村委会"] {
            if starts_with_at(chars, pos, tail) {
                pos += tail.chars().count();
            }
        }
    }

    // Road.
    if let Some((end, _)) = find_suffix(
        chars,
        pos,
        NAME_WINDOW,
        &["大道", "大街", "路", "街", "巷", "胡同", "弄"],
        |start, _| !starts_with_at(chars, start, "街道"),
    ) {
        set_text(&mut a.parts[level::ROAD], chars, pos..end);
        pos = end;
    }

    // Door number ("12号", not "3号楼"), building, unit, room ("502室",
    // "502户", "502号"). Text skipped on the way goes to rest.
    let designated: [(usize, &[&str], &[char]); 4] = [
        (level::NUMBER, &["号"], &['楼', '院']),
        (level::BUILDING, &["号楼", "栋", "幢", "座", "号院"], &[]),
        (level::UNIT, &["单元"], &[]),
        (level::ROOM, &["室", "户", "号"], &[]),
    ];
    for (field, suffixes, reject_next) in designated {
        if let Some((start, d, end)) = find_designated(chars, pos, suffixes, reject_next) {
            a.parts[level::REST].extend(&chars[pos..start]);
            write_desig(&mut a.parts[field], chars, d);
            pos = end;
        }
    }
    // A bare number at the very end after a building or unit is the room.
    if a.parts[level::ROOM].is_empty()
        && !(a.parts[level::UNIT].is_empty() && a.parts[level::BUILDING].is_empty())
    {
        if let Some((d, end)) = designator(chars, pos) {
            if end == chars.len() && !matches!(d, Desig::Nothing) {
                write_desig(&mut a.parts[level::ROOM], chars, d);
                pos = end;
            }
        }
    }

    if pos < chars.len() {
        a.parts[level::REST].extend(&chars[pos..]);
    }
}

/// Parses an address into a new [`Address`] (see [`address_parse_into`]).
pub fn address_parse_with(scratch: &mut AddressScratch, s: &str) -> Address {
    let mut a = Address::default();
    address_parse_into(scratch, s, &mut a);
    a
}

/// Parses an address with fresh buffers (see [`address_parse_with`]).
pub fn address_parse(s: &str) -> Address {
    address_parse_with(&mut AddressScratch::default(), s)
}

/// Writes the canonical key of a parsed address down to `depth` (1 province
/// … 10 room) into `out`; returns false (no key) if none of the key's levels
/// was found. Levels are joined with `|`, missing ones left empty. From
/// depth 3 on, the key starts at the district: province and city are implied
/// by it within one city's data, and registers often omit them.
pub fn address_key_into(a: &Address, depth: usize, out: &mut String) -> bool {
    let depth = depth.clamp(1, 10);
    let first = if depth >= 3 {
        level::DISTRICT
    } else {
        level::PROVINCE
    };
    let levels = first..depth;
    if levels.clone().all(|i| a.parts[i].is_empty()) {
        return false;
    }
    for (n, i) in levels.enumerate() {
        if n > 0 {
            out.push('|');
        }
        out.push_str(&a.parts[i]);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(s: &str) -> Vec<String> {
        address_parse(s).parts.to_vec()
    }

    #[test]
    fn full_yantai_address() {
        let a = address_parse("山东省烟台市芝罘区幸福街道幸福村福山路12号3号楼2单元502室");
        assert_eq!(
            a.parts,
            [
                "山东省",
                "烟台市",
                "芝罘区",
                "幸福街道",
                "幸福村",
                "福山路",
                "12",
                "3",
                "2",
                "502",
                ""
            ]
            .map(String::from)
        );
    }

    #[test]
    fn partial_and_variant_forms() {
        let a = address_parse("烟台市芝罘区只楚街道 三号楼二单元５０２");
        assert_eq!(a.get(level::CITY), "烟台市");
        assert_eq!(a.get(level::DISTRICT), "芝罘区");
        assert_eq!(a.get(level::TOWN), "只楚街道");
        assert_eq!(a.get(level::BUILDING), "3");
        assert_eq!(a.get(level::UNIT), "2");
        assert_eq!(a.get(level::ROOM), "502");
        // County-level city directly followed by a street office.
        let b = address_parse("山东省龙口市东莱街道办事处南山村委会");
        assert_eq!(b.get(level::CITY), "");
        assert_eq!(b.get(level::DISTRICT), "龙口市");
        assert_eq!(b.get(level::TOWN), "东莱街道");
        assert_eq!(b.get(level::VILLAGE), "南山村");
        let c = address_parse("北京市海淀区中关村大街27号");
        assert_eq!(c.get(level::PROVINCE), "北京市");
        assert_eq!(c.get(level::CITY), "北京市");
        assert_eq!(c.get(level::DISTRICT), "海淀区");
        assert_eq!(c.get(level::ROAD), "中关村大街");
        assert_eq!(c.get(level::NUMBER), "27");
        let d = address_parse("芝罘区幸福小区3号楼2单元502室");
        assert_eq!(d.get(level::REST), "幸福小区");
        assert_eq!(d.get(level::BUILDING), "3");
    }

    #[test]
    fn keys_agree_across_spellings() {
        let key = |s: &str, d: usize| {
            let mut o = String::new();
            address_key_into(&address_parse(s), d, &mut o).then_some(o)
        };
        let a = key(
            "山东省烟台市芝罘区幸福街道幸福村福山路12号3号楼2单元502室",
            10,
        );
        let b = key("烟台市芝罘区幸福街道幸福村福山路１２号三号楼二单元502", 10);
        assert_eq!(a, b);
        assert_eq!(
            a.as_deref(),
            Some("芝罘区|幸福街道|幸福村|福山路|12|3|2|502")
        );
        assert_eq!(
            key("山东省烟台市芝罘区", 2).as_deref(),
            Some("山东省|烟台市")
        );
        assert_eq!(key("", 10), None);
        assert_eq!(key("随便写的", 10), None);
    }

    #[test]
    fn designators_are_canonical() {
        let room = |s: &str| address_parse(s).parts[level::ROOM].clone();
        assert_eq!(room("3号楼0502室"), "502");
        assert_eq!(room("3号楼12-03室"), "12-3");
        assert_eq!(room("3号楼0室"), "0");
        assert_eq!(room("3号楼00-0室"), "0-0");
        assert_eq!(room("3号楼二〇三室"), "203");
        assert_eq!(room("3号楼B室"), "B");
        assert_eq!(address_parse("A座").parts[level::BUILDING], "A");
    }

    #[test]
    fn odd_input_does_not_panic() {
        let _ = parts(&"-".repeat(20_000));
        let _ = parts(&"号".repeat(20_000));
        let _ = parts(&"9".repeat(20_000));
        for s in [
            "",
            "号",
            "单元",
            "-号",
            "省市区",
            "山东",
            "一二三四五六七八九十百号楼",
            "0000号",
        ] {
            let _ = parts(s);
        }
        let long = "山东省烟台市".repeat(2000);
        let _ = parts(&long);
    }
}
