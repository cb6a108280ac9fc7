//! Toneless pinyin readings of Han characters, interned to small integer
//! ids, with the surname readings a generic dictionary gets wrong.
//!
//! A name comparison looks each character up in a dense table built once
//! from the `pinyin` crate's data, so comparing two names never allocates
//! and never hashes.

use std::collections::HashMap;
use std::sync::LazyLock;

use pinyin::ToPinyin;

use crate::common::text::{fold_width, is_han, is_middle_dot, is_space, to_simplified};

const FIRST: u32 = 0x3400;
const LAST: u32 = 0x9FFF;

/// Single-character surnames whose reading as a surname differs from the
/// character's most common reading (曾 is céng in 曾经 but Zēng as a name).
const SURNAME_READINGS: &[(char, &str)] = &[
    ('曾', "zeng"),
    ('单', "shan"),
    ('解', "xie"),
    ('仇', "qiu"),
    ('区', "ou"),
    ('朴', "piao"),
    ('查', "zha"),
    ('盖', "ge"),
    ('覃', "qin"),
    ('乐', "yue"),
    ('缪', "miao"),
    ('翟', "zhai"),
    ('褚', "chu"),
    ('秘', "bi"),
    ('员', "yun"),
    ('种', "chong"),
    ('折', "she"),
    ('牟', "mu"),
    ('宿', "su"),
    ('繁', "po"),
    ('句', "gou"),
    ('召', "shao"),
    ('那', "na"),
    ('能', "nai"),
    ('隗', "wei"),
    ('黑', "he"),
    ('阚', "kan"),
    ('谌', "chen"),
    ('贲', "ben"),
    ('莘', "shen"),
    ('祭', "zhai"),
    ('乜', "nie"),
    ('佴', "nai"),
    ('厍', "she"),
    ('眭', "sui"),
    ('郇', "huan"),
    ('沈', "shen"),
    ('任', "ren"),
    ('华', "hua"),
    ('纪', "ji"),
    ('燕', "yan"),
    ('冼', "xian"),
    ('石', "shi"),
    ('薄', "bo"),
    ('柏', "bai"),
    ('蔺', "lin"),
    ('藏', "zang"),
    ('相', "xiang"),
    ('重', "chong"),
    ('长', "chang"),
    ('尉', "wei"),
    ('万', "wan"),
];

/// Characters whose reading in names differs from the dictionary's first
/// reading, in any position (卜 in transliterations such as 阿卜杜).
const NAME_READINGS: &[(char, &str)] = &[('卜', "bu")];

/// Two-character surnames (复姓), with their readings as surnames.
const COMPOUND_SURNAMES: &[(&str, [&str; 2])] = &[
    ("欧阳", ["ou", "yang"]),
    ("司马", ["si", "ma"]),
    ("上官", ["shang", "guan"]),
    ("诸葛", ["zhu", "ge"]),
    ("东方", ["dong", "fang"]),
    ("皇甫", ["huang", "fu"]),
    ("尉迟", ["yu", "chi"]),
    ("公孙", ["gong", "sun"]),
    ("慕容", ["mu", "rong"]),
    ("长孙", ["zhang", "sun"]),
    ("宇文", ["yu", "wen"]),
    ("司徒", ["si", "tu"]),
    ("司空", ["si", "kong"]),
    ("夏侯", ["xia", "hou"]),
    ("轩辕", ["xuan", "yuan"]),
    ("令狐", ["ling", "hu"]),
    ("钟离", ["zhong", "li"]),
    ("单于", ["chan", "yu"]),
    ("澹台", ["tan", "tai"]),
    ("万俟", ["mo", "qi"]),
    ("闻人", ["wen", "ren"]),
    ("赫连", ["he", "lian"]),
    ("呼延", ["hu", "yan"]),
    ("端木", ["duan", "mu"]),
    ("西门", ["xi", "men"]),
    ("南宫", ["nan", "gong"]),
    ("独孤", ["du", "gu"]),
    ("百里", ["bai", "li"]),
    ("东郭", ["dong", "guo"]),
    ("公羊", ["gong", "yang"]),
    ("太史", ["tai", "shi"]),
    ("申屠", ["shen", "tu"]),
    ("濮阳", ["pu", "yang"]),
    ("淳于", ["chun", "yu"]),
    ("仲孙", ["zhong", "sun"]),
    ("拓跋", ["tuo", "ba"]),
    ("完颜", ["wan", "yan"]),
];

/// The interned readings and per-character lookup tables.
pub(crate) struct PinyinTable {
    /// Syllable text by id; id 0 is "no reading".
    syllables: Vec<String>,
    /// Fuzzy-sound class of each syllable id (zh = z, ch = c, sh = s,
    /// n = l, -ng = -n), for the "sounds alike" comparison level.
    fuzzy: Vec<u16>,
    /// Syllable id of each character from U+3400 to U+9FFF.
    by_char: Vec<u16>,
    /// Surname reading of each character from U+3400 to U+9FFF (0 where
    /// it is the default reading), so the lookup is one index.
    surname1: Vec<u16>,
    /// True for characters that begin a compound surname.
    compound_first: Vec<bool>,
    /// Compound surnames and their readings.
    surname2: Vec<([char; 2], [u16; 2])>,
}

/// The fuzzy class of a syllable: merges the initials and finals that
/// speakers of many dialects (and typists using fuzzy-pinyin input) confuse.
fn fuzzy_key(s: &str) -> String {
    let (initial, rest) = if let Some(r) = s.strip_prefix("zh") {
        ("z", r)
    } else if let Some(r) = s.strip_prefix("ch") {
        ("c", r)
    } else if let Some(r) = s.strip_prefix("sh") {
        ("s", r)
    } else if let Some(r) = s.strip_prefix('n').filter(|r| !r.is_empty() && *r != "g") {
        ("l", r)
    } else {
        ("", s)
    };
    let rest = match rest.strip_suffix("ng") {
        Some(r) if !r.is_empty() => format!("{r}n"),
        _ => rest.to_string(),
    };
    format!("{initial}{rest}")
}

impl PinyinTable {
    fn build() -> Self {
        let mut ids: HashMap<String, u16> = HashMap::new();
        let mut syllables = vec![String::new()];
        let mut intern = |s: &str, syllables: &mut Vec<String>| -> u16 {
            if let Some(&id) = ids.get(s) {
                return id;
            }
            let id = syllables.len() as u16;
            syllables.push(s.to_string());
            ids.insert(s.to_string(), id);
            id
        };
        let mut by_char = vec![0u16; (LAST - FIRST + 1) as usize];
        for cp in FIRST..=LAST {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            if let Some(p) = c.to_pinyin() {
                let plain = p.plain().replace('ü', "v");
                by_char[(cp - FIRST) as usize] = intern(&plain, &mut syllables);
            }
        }
        for (c, r) in NAME_READINGS {
            by_char[(*c as u32 - FIRST) as usize] = intern(r, &mut syllables);
        }
        let mut surname1 = vec![0u16; by_char.len()];
        for (c, r) in SURNAME_READINGS {
            surname1[(*c as u32 - FIRST) as usize] = intern(r, &mut syllables);
        }
        let surname2: Vec<([char; 2], [u16; 2])> = COMPOUND_SURNAMES
            .iter()
            .filter_map(|(s, [r1, r2])| {
                let mut cs = s.chars();
                let pair = [cs.next()?, cs.next()?];
                Some((
                    pair,
                    [intern(r1, &mut syllables), intern(r2, &mut syllables)],
                ))
            })
            .collect();
        let mut compound_first = vec![false; by_char.len()];
        for ([first, _], _) in &surname2 {
            compound_first[(*first as u32 - FIRST) as usize] = true;
        }
        let mut fuzzy_ids: HashMap<String, u16> = HashMap::new();
        let fuzzy = syllables
            .iter()
            .map(|s| {
                let n = fuzzy_ids.len() as u16;
                *fuzzy_ids.entry(fuzzy_key(s)).or_insert(n)
            })
            .collect();
        PinyinTable {
            syllables,
            fuzzy,
            by_char,
            surname1,
            surname2,
            compound_first,
        }
    }

    /// The default reading of a (simplified) character; 0 if none is known.
    #[inline]
    pub(crate) fn syllable_of(&self, c: char) -> u16 {
        let cp = c as u32;
        if (FIRST..=LAST).contains(&cp) {
            self.by_char[(cp - FIRST) as usize]
        } else {
            0
        }
    }

    /// The text of a syllable id.
    #[inline]
    pub(crate) fn text(&self, id: u16) -> &str {
        self.syllables.get(id as usize).map_or("", String::as_str)
    }

    /// The fuzzy-sound class of a syllable id.
    #[inline]
    pub(crate) fn fuzzy(&self, id: u16) -> u16 {
        self.fuzzy.get(id as usize).copied().unwrap_or(0)
    }
}

/// The process-wide table, built on first use (a few milliseconds).
pub(crate) static TABLE: LazyLock<PinyinTable> = LazyLock::new(PinyinTable::build);

/// One significant character of a name, folded, with its reading.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Unit {
    /// The character, simplified and (for ASCII) upper-cased.
    pub ch: char,
    /// Its toneless pinyin id, 0 for non-Han characters.
    pub syl: u16,
}

/// Most significant characters a comparison key keeps; longer values are
/// compared on their first `MAX_UNITS` characters (no real name is longer).
pub(crate) const MAX_UNITS: usize = 48;

/// A name folded for comparison, on the stack: full-width folded,
/// traditional → simplified, ASCII upper-cased, spaces and middle dots
/// dropped, each Han character with its reading (surname readings for the
/// surname).
#[derive(Clone, Copy)]
pub(crate) struct NameKey {
    units: [Unit; MAX_UNITS],
    len: usize,
    /// Number of Han characters.
    pub han: usize,
    /// Number of characters in the surname (1, or 2 for a compound surname;
    /// 0 if the name does not start with a Han character).
    pub surname_len: usize,
}

impl NameKey {
    /// Folds a raw name.
    pub(crate) fn new(s: &str) -> Self {
        let table = &*TABLE;
        let mut key = NameKey {
            units: [Unit::default(); MAX_UNITS],
            len: 0,
            han: 0,
            surname_len: 0,
        };
        for c in s.chars() {
            if is_space(c) || is_middle_dot(c) {
                continue;
            }
            if key.len == MAX_UNITS {
                break;
            }
            let c = to_simplified(fold_width(c)).to_ascii_uppercase();
            let han = is_han(c);
            key.han += han as usize;
            key.units[key.len] = Unit {
                ch: c,
                syl: if han { table.syllable_of(c) } else { 0 },
            };
            key.len += 1;
        }
        key.apply_surname(table);
        key
    }

    fn apply_surname(&mut self, table: &PinyinTable) {
        if self.len == 0 || !is_han(self.units[0].ch) {
            return;
        }
        self.surname_len = 1;
        let first = self.units[0].ch as u32;
        let Some(idx) = first.checked_sub(FIRST).filter(|_| first <= LAST) else {
            return;
        };
        let idx = idx as usize;
        if self.len >= 3 && table.compound_first[idx] {
            let pair = [self.units[0].ch, self.units[1].ch];
            if let Some((_, r)) = table.surname2.iter().find(|(p, _)| *p == pair) {
                self.units[0].syl = r[0];
                self.units[1].syl = r[1];
                self.surname_len = 2;
                return;
            }
        }
        if table.surname1[idx] != 0 {
            self.units[0].syl = table.surname1[idx];
        }
    }

    /// The folded characters with their readings.
    #[inline]
    pub(crate) fn units(&self) -> &[Unit] {
        &self.units[..self.len]
    }

    /// True if every character is a Han character with a known reading.
    #[inline]
    pub(crate) fn all_han(&self) -> bool {
        self.len > 0 && self.units().iter().all(|u| u.syl != 0)
    }
}

/// Writes the toneless pinyin of a name, syllables separated by spaces, with
/// surname readings for the surname; runs of Latin letters and digits are
/// kept (lower-cased) as words; everything else separates words.
pub(crate) fn pinyin_into(s: &str, initials_only: bool, out: &mut String) {
    let table = &*TABLE;
    let key = NameKey::new(s);
    // Readings come from the key (which knows the surname); Latin words are
    // rebuilt from the raw text so that spaces between them are kept.
    let mut units = key.units().iter().peekable();
    let mut word_open = false;
    let push_sep = |out: &mut String| {
        if !out.is_empty() && !initials_only {
            out.push(' ');
        }
    };
    for c in s.chars() {
        if is_space(c) || is_middle_dot(c) {
            word_open = false;
            continue;
        }
        let Some(u) = units.next() else { break };
        if u.syl != 0 {
            push_sep(out);
            let text = table.text(u.syl);
            if initials_only {
                out.extend(text.chars().next());
            } else {
                out.push_str(text);
            }
            word_open = false;
        } else if u.ch.is_alphanumeric() {
            if !word_open {
                push_sep(out);
                word_open = true;
                if initials_only {
                    out.extend(u.ch.to_lowercase());
                    continue;
                }
            } else if initials_only {
                continue;
            }
            out.extend(u.ch.to_lowercase());
        } else {
            word_open = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn py(s: &str) -> String {
        let mut o = String::new();
        pinyin_into(s, false, &mut o);
        o
    }

    #[test]
    fn surname_readings() {
        assert_eq!(py("曾小贤"), "zeng xiao xian");
        assert_eq!(py("单田芳"), "shan tian fang");
        assert_eq!(py("解缙"), "xie jin");
        assert_eq!(py("仇英"), "qiu ying");
        assert_eq!(py("区小明"), "ou xiao ming");
        assert_eq!(py("朴树"), "piao shu");
        assert_eq!(py("尉迟恭"), "yu chi gong");
        assert_eq!(py("欧阳娜娜"), "ou yang na na");
        // Traditional forms read the same.
        assert_eq!(py("區小明"), "ou xiao ming");
        assert_eq!(py("張偉"), "zhang wei");
        // Only the surname position takes the surname reading.
        assert_eq!(py("李曾"), "li ceng");
    }

    #[test]
    fn mixed_and_odd_input() {
        assert_eq!(py("阿卜杜·热合曼"), "a bu du re he man");
        assert_eq!(py("John Smith"), "john smith");
        assert_eq!(py("Ｊｏｈｎ 张"), "john zhang");
        assert_eq!(py(""), "");
        assert_eq!(py("🙂"), "");
        assert_eq!(py("吕"), "lv");
        let mut o = String::new();
        pinyin_into("张小伟", true, &mut o);
        assert_eq!(o, "zxw");
    }

    #[test]
    fn fuzzy_classes() {
        assert_eq!(fuzzy_key("zhang"), "zan");
        assert_eq!(fuzzy_key("zan"), "zan");
        assert_eq!(fuzzy_key("niu"), "liu");
        assert_eq!(fuzzy_key("cheng"), "cen");
        assert_eq!(fuzzy_key("ng"), "ng");
        assert_eq!(fuzzy_key("n"), "n");
    }
}
