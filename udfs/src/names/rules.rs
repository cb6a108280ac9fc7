//! Name normalisation and comparison rules as plain functions.
//!
//! Character-level Jaro-Winkler is coarse on Chinese names: two-character
//! names differ in one character out of two, so 张伟 vs 章伟 scores 0.667
//! like two unrelated names would. The comparison here aligns the names
//! character by character and scores a substitution by how the characters
//! relate: identical (after traditional → simplified), same reading
//! (homophone), similar reading (zh/z, n/l, -ng/-n), or different.

use super::pinyin::{NameKey, Unit, MAX_UNITS, TABLE};
use super::strsim::{jaro_winkler_with, Scratch};
use crate::common::text::{fold_width, is_han, is_middle_dot, is_space, to_simplified};

/// Writes the normalised form of a name: full-width folded, traditional →
/// simplified, Latin letters upper-cased, spaces removed between Han
/// characters and collapsed to one between Latin words, and every kind of
/// middle dot written as `·` (U+00B7) between the parts of a transliterated
/// name.
pub fn name_normalize_into(s: &str, scratch: &mut Vec<char>, out: &mut String) {
    scratch.clear();
    for c in s.chars() {
        let c = fold_width(c);
        if is_space(c) {
            if scratch.last() != Some(&' ') {
                scratch.push(' ');
            }
        } else if c == '.' {
            scratch.push('.');
        } else if is_middle_dot(c) {
            scratch.push('·');
        } else {
            scratch.push(to_simplified(c).to_ascii_uppercase());
        }
    }
    let chars = &scratch[..];
    // The neighbouring significant characters of position i.
    let prev_sig = |i: usize| chars[..i].iter().rev().find(|c| **c != ' ').copied();
    let next_sig = |i: usize| chars[i + 1..].iter().find(|c| **c != ' ').copied();
    let mut last: Option<char> = None;
    for (i, &c) in chars.iter().enumerate() {
        match c {
            ' ' => {
                let (p, n) = (prev_sig(i), next_sig(i));
                let between_words = matches!((p, n), (Some(p), Some(n))
                    if !is_han(p) && !is_han(n) && p != '·' && n != '·');
                if between_words && last.is_some() && last != Some(' ') {
                    out.push(' ');
                    last = Some(' ');
                }
            }
            '.' | '·' => {
                let (p, n) = (prev_sig(i), next_sig(i));
                let dot = if c == '·' || p.is_some_and(is_han) || n.is_some_and(is_han) {
                    '·'
                } else {
                    '.'
                };
                if dot == '.' {
                    out.push('.');
                    last = Some('.');
                } else if p.is_some()
                    && n.is_some_and(|n| !is_middle_dot(n) && n != '.')
                    && last != Some('·')
                {
                    if last == Some(' ') {
                        out.pop();
                    }
                    out.push('·');
                    last = Some('·');
                }
            }
            c => {
                out.push(c);
                last = Some(c);
            }
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
}

/// The normalised form of a name (see [`name_normalize_into`]).
pub fn name_normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    name_normalize_into(s, &mut Vec::new(), &mut out);
    out
}

/// Substitution cost of two name characters in the alignment.
#[inline]
fn sub_cost(a: Unit, b: Unit) -> f64 {
    if a.ch == b.ch {
        0.0
    } else if a.syl != 0 && a.syl == b.syl {
        0.2
    } else if a.syl != 0 && b.syl != 0 && TABLE.fuzzy(a.syl) == TABLE.fuzzy(b.syl) {
        0.4
    } else {
        1.0
    }
}

/// Weighted edit distance between two unit sequences (insert/delete 1).
fn weighted_distance(a: &[Unit], b: &[Unit], cost: impl Fn(Unit, Unit) -> f64) -> f64 {
    let mut row = [0f64; MAX_UNITS + 1];
    for (j, r) in row.iter_mut().enumerate().take(b.len() + 1) {
        *r = j as f64;
    }
    for (i, &ua) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = (i + 1) as f64;
        for (j, &ub) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = (diag + cost(ua, ub)).min(up + 1.0).min(row[j] + 1.0);
            diag = up;
        }
    }
    row[b.len()]
}

/// Writes the toneless pinyin letters of a key's Han characters, upper-case,
/// no separators, for comparing a Chinese name with its romanisation.
fn romanise(key: &NameKey, out: &mut Vec<char>) {
    out.clear();
    for u in key.units() {
        if u.syl != 0 {
            out.extend(TABLE.text(u.syl).chars().map(|c| c.to_ascii_uppercase()));
        } else {
            out.push(u.ch);
        }
    }
}

/// Reusable state for comparing many pairs of names.
#[derive(Default)]
pub struct NameScratch {
    strsim: Scratch,
    a: Vec<char>,
    b: Vec<char>,
}

fn latin_similarity(a: &NameKey, b: &NameKey, scratch: &mut NameScratch) -> f64 {
    // One side in Chinese and the other romanised: compare the sounds.
    if a.han > 0 {
        romanise(a, &mut scratch.a);
    } else {
        scratch.a.clear();
        scratch.a.extend(a.units().iter().map(|u| u.ch));
    }
    if b.han > 0 {
        romanise(b, &mut scratch.b);
    } else {
        scratch.b.clear();
        scratch.b.extend(b.units().iter().map(|u| u.ch));
    }
    let sa: String = scratch.a.iter().collect();
    let sb: String = scratch.b.iter().collect();
    jaro_winkler_with(&mut scratch.strsim, &sa, &sb)
}

fn similarity_keys(a: &NameKey, b: &NameKey, scratch: &mut NameScratch) -> f64 {
    let (ua, ub) = (a.units(), b.units());
    if ua.is_empty() || ub.is_empty() {
        return 0.0;
    }
    if ua == ub {
        return 1.0;
    }
    if a.han > 0 && b.han > 0 {
        let d = weighted_distance(ua, ub, sub_cost);
        (1.0 - d / ua.len().max(ub.len()) as f64).max(0.0)
    } else {
        latin_similarity(a, b, scratch)
    }
}

/// Similarity of two personal names in [0, 1] (see the module docs):
/// 1 for names equal after normalisation, 0.9 for a two-character name with
/// one homophone (张伟 / 章伟), 0.8 with one similar-sounding character,
/// 0.5 for a two-character name with one unrelated character.
pub fn name_similarity_with(scratch: &mut NameScratch, a: &str, b: &str) -> f64 {
    similarity_keys(&NameKey::new(a), &NameKey::new(b), scratch)
}

/// [`name_similarity_with`] with fresh buffers.
pub fn name_similarity(a: &str, b: &str) -> f64 {
    name_similarity_with(&mut NameScratch::default(), a, b)
}

/// Comparison levels of [`name_match_level`], from strongest to weakest.
pub mod level {
    /// Same name after normalisation (traditional = simplified, spacing,
    /// full-width, middle dots).
    pub const EXACT: i32 = 4;
    /// Same reading at every position (homophones: 张伟 / 章伟, 张伟 / 张卫).
    pub const SAME_PINYIN: i32 = 3;
    /// Readings alike under fuzzy pinyin (陈/程, 刘/牛), or one character
    /// added or dropped where the longer name has three or more (张伟 / 张小伟).
    pub const CLOSE: i32 = 2;
    /// Same surname and a shared given-name character or reading.
    pub const SAME_SURNAME: i32 = 1;
    /// No useful agreement.
    pub const DIFFERENT: i32 = 0;
}

fn level_keys(a: &NameKey, b: &NameKey, scratch: &mut NameScratch) -> i32 {
    let (ua, ub) = (a.units(), b.units());
    if ua.is_empty() || ub.is_empty() {
        return level::DIFFERENT;
    }
    if ua.iter().map(|u| u.ch).eq(ub.iter().map(|u| u.ch)) {
        return level::EXACT;
    }
    if a.all_han() && b.all_han() {
        let same_len = ua.len() == ub.len();
        if same_len
            && ua
                .iter()
                .zip(ub)
                .all(|(x, y)| x.ch == y.ch || x.syl == y.syl)
        {
            return level::SAME_PINYIN;
        }
        if same_len
            && ua
                .iter()
                .zip(ub)
                .all(|(x, y)| x.ch == y.ch || TABLE.fuzzy(x.syl) == TABLE.fuzzy(y.syl))
        {
            return level::CLOSE;
        }
        let sounds_same = |x: Unit, y: Unit| {
            if x.ch == y.ch || x.syl == y.syl {
                0.0
            } else {
                1.0
            }
        };
        // A character added or dropped (张伟 / 张小伟). A changed character
        // is not: 张小伟 / 张小明 are as likely to be brothers as one person.
        if ua.len().abs_diff(ub.len()) == 1
            && ua.len().max(ub.len()) >= 3
            && weighted_distance(ua, ub, sounds_same) <= 1.0
        {
            return level::CLOSE;
        }
        let (sa, sb) = (a.surname_len, b.surname_len);
        if sa == sb && sa > 0 && ua[..sa].iter().zip(&ub[..sb]).all(|(x, y)| x.syl == y.syl) {
            let shared = ua[sa..]
                .iter()
                .any(|x| ub[sb..].iter().any(|y| x.ch == y.ch || x.syl == y.syl));
            if shared {
                return level::SAME_SURNAME;
            }
        }
        return level::DIFFERENT;
    }
    // Latin script, or one side romanised: grade the string similarity.
    let s = latin_similarity(a, b, scratch);
    if s >= 0.999 {
        level::SAME_PINYIN
    } else if s >= 0.92 {
        level::CLOSE
    } else if s >= 0.85 {
        level::SAME_SURNAME
    } else {
        level::DIFFERENT
    }
}

/// The comparison level of two personal names, 0 to 4 (see [`level`]):
/// an ordinal agreement level for record linkage, where each level can get
/// its own weight. Empty names are level 0.
pub fn name_match_level_with(scratch: &mut NameScratch, a: &str, b: &str) -> i32 {
    level_keys(&NameKey::new(a), &NameKey::new(b), scratch)
}

/// [`name_match_level_with`] with fresh buffers.
pub fn name_match_level(a: &str, b: &str) -> i32 {
    name_match_level_with(&mut NameScratch::default(), a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(name_normalize(" 張 偉 "), "张伟");
        assert_eq!(name_normalize("阿卜杜 • 热合曼"), "阿卜杜·热合曼");
        assert_eq!(name_normalize("阿卜杜.热合曼"), "阿卜杜·热合曼");
        assert_eq!(name_normalize("阿卜杜··热合曼·"), "阿卜杜·热合曼");
        assert_eq!(name_normalize("ｊｏｈｎ   smith"), "JOHN SMITH");
        assert_eq!(name_normalize("J. Smith"), "J. SMITH");
        assert_eq!(name_normalize(""), "");
        assert_eq!(name_normalize("   "), "");
        assert_eq!(name_normalize("·"), "");
    }

    #[test]
    fn similarity_on_short_chinese_names() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
        assert!(close(name_similarity("张伟", "张伟"), 1.0));
        assert!(close(name_similarity("張偉", "张伟"), 1.0));
        assert!(close(name_similarity("张伟", "章伟"), 0.9));
        assert!(close(name_similarity("陈明", "程明"), 0.8));
        assert!(close(name_similarity("张伟", "张三"), 0.5));
        assert!(close(name_similarity("张伟", "李明"), 0.0));
        assert!(name_similarity("张伟", "张小伟") > 0.6);
        assert_eq!(name_similarity("", "张伟"), 0.0);
        assert!(name_similarity("张伟", "ZHANG WEI") > 0.99);
    }

    #[test]
    fn levels() {
        use level::*;
        assert_eq!(name_match_level("張偉", "张伟"), EXACT);
        assert_eq!(name_match_level("阿卜杜·热合曼", "阿卜杜热合曼"), EXACT);
        assert_eq!(name_match_level("张伟", "章伟"), SAME_PINYIN);
        assert_eq!(name_match_level("张伟", "张卫"), SAME_PINYIN);
        assert_eq!(name_match_level("曾伟", "增伟"), SAME_PINYIN);
        assert_eq!(name_match_level("陈明", "程明"), CLOSE);
        assert_eq!(name_match_level("刘洋", "牛洋"), CLOSE);
        assert_eq!(name_match_level("张小伟", "张伟"), CLOSE);
        assert_eq!(name_match_level("张小伟", "张晓明"), SAME_SURNAME);
        assert_eq!(name_match_level("张伟", "张三"), DIFFERENT);
        assert_eq!(name_match_level("张伟", "李伟"), DIFFERENT);
        assert_eq!(name_match_level("", ""), DIFFERENT);
        assert_eq!(name_match_level("JOHN SMITH", "john  smith"), EXACT);
        assert_eq!(name_match_level("张伟", "Zhang Wei"), SAME_PINYIN);
    }
}
