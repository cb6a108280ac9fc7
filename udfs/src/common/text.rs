//! Character-level folding shared by the families: full-width forms, the
//! many spaces and middle dots found in registers, and traditional → simplified
//! Han characters.
//!
//! Everything here works one `char` at a time without allocating, so the
//! name, phone and address kernels can fold while they scan.

use std::sync::LazyLock;

/// Folds full-width ASCII variants (U+FF01–U+FF5E, e.g. `１`, `Ｘ`, `（`) and
/// the ideographic space (U+3000) to their half-width forms; any other
/// character is returned unchanged.
#[inline]
pub fn fold_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// True for every kind of space that turns up in typed or pasted data:
/// ASCII whitespace, the ideographic space, no-break spaces and the
/// zero-width characters (which are invisible but break equality).
#[inline]
pub fn is_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200D}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{2060}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

/// True for the characters used as the middle dot between the parts of a
/// transliterated name (阿卜杜·热合曼): the proper U+00B7 and its look-alikes.
#[inline]
pub fn is_middle_dot(c: char) -> bool {
    matches!(
        c,
        '\u{00B7}'
            | '\u{0387}'
            | '\u{16EB}'
            | '\u{2022}'
            | '\u{2027}'
            | '\u{2219}'
            | '\u{22C5}'
            | '\u{2E31}'
            | '\u{30FB}'
            | '\u{FF0E}'
            | '\u{FF65}'
            | '.'
    )
}

/// True for a CJK unified ideograph (basic block, extension A, the
/// compatibility block and the supplementary-plane extensions).
#[inline]
pub fn is_han(c: char) -> bool {
    matches!(
        c,
        '\u{3400}'..='\u{4DBF}'
            | '\u{4E00}'..='\u{9FFF}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{20000}'..='\u{3134F}'
    )
}

/// First and last code point of the dense traditional → simplified table.
const T2S_FIRST: u32 = 0x3400;
const T2S_LAST: u32 = 0x9FFF;

/// Characters a generic converter would change but which are kept in names:
/// they are distinct characters (surnames 於, 乾 as in 乾隆) or their
/// conversion depends on the word.
const T2S_KEEP: &[char] = &['乾', '於', '藉', '瞭', '麽', '夥', '覆', '著', '後', '徵'];

/// Dense table over U+3400–U+9FFF: the simplified code point, or 0 where the
/// character is already simplified. Built once from the `fast2s` character
/// table (about 2,700 pairs).
static T2S: LazyLock<Vec<u32>> = LazyLock::new(|| {
    let mut table = vec![0u32; (T2S_LAST - T2S_FIRST + 1) as usize];
    let mut buf = [0u8; 4];
    for cp in T2S_FIRST..=T2S_LAST {
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        if T2S_KEEP.contains(&c) {
            continue;
        }
        let converted = fast2s::convert(c.encode_utf8(&mut buf));
        let mut chars = converted.chars();
        if let (Some(s), None) = (chars.next(), chars.next()) {
            if s != c {
                table[(cp - T2S_FIRST) as usize] = s as u32;
            }
        }
    }
    // A few characters found in names and addresses that the table lacks.
    for (t, s) in [('裏', '里'), ('祕', '秘'), ('綫', '线')] {
        table[(t as u32 - T2S_FIRST) as usize] = s as u32;
    }
    table
});

/// The simplified form of a Han character (張 → 张, 偉 → 伟); every other
/// character is returned unchanged.
#[inline]
pub fn to_simplified(c: char) -> char {
    let cp = c as u32;
    if !(T2S_FIRST..=T2S_LAST).contains(&cp) {
        return c;
    }
    match T2S[(cp - T2S_FIRST) as usize] {
        0 => c,
        s => char::from_u32(s).unwrap_or(c),
    }
}

/// True for the characters of a Chinese numeral (〇一二…九两十百).
#[inline]
pub fn is_chinese_numeral_char(c: char) -> bool {
    matches!(
        c,
        '〇' | '零'
            | '一'
            | '二'
            | '两'
            | '三'
            | '四'
            | '五'
            | '六'
            | '七'
            | '八'
            | '九'
            | '十'
            | '百'
            | '壹'
            | '贰'
            | '叁'
            | '肆'
            | '伍'
            | '陆'
            | '柒'
            | '捌'
            | '玖'
            | '拾'
            | '佰'
    )
}

/// The value of a run of Chinese numerals given as characters (see
/// [`chinese_numeral_value`]); allocation-free.
pub fn chinese_numeral_value_chars(chars: impl IntoIterator<Item = char>) -> Option<u32> {
    let mut total: u32 = 0;
    let mut current: Option<u32> = None;
    // The digit-by-digit reading (一〇二 = 102), used when there is no unit.
    let mut plain: u32 = 0;
    let mut digits = 0usize;
    let mut saw_unit = false;
    for c in chars {
        let d = match c {
            '〇' | '零' => 0,
            '一' | '壹' => 1,
            '二' | '两' | '贰' => 2,
            '三' | '叁' => 3,
            '四' | '肆' => 4,
            '五' | '伍' => 5,
            '六' | '陆' => 6,
            '七' | '柒' => 7,
            '八' | '捌' => 8,
            '九' | '玖' => 9,
            '十' | '拾' => {
                saw_unit = true;
                total = total.checked_add(current.unwrap_or(1).checked_mul(10)?)?;
                current = None;
                continue;
            }
            '百' | '佰' => {
                saw_unit = true;
                total = total.checked_add(current.unwrap_or(1).checked_mul(100)?)?;
                current = None;
                continue;
            }
            _ => return None,
        };
        plain = plain.checked_mul(10)?.checked_add(d)?;
        digits += 1;
        current = Some(d);
    }
    if digits == 0 && !saw_unit {
        return None;
    }
    if saw_unit {
        total.checked_add(current.unwrap_or(0))
    } else {
        Some(plain)
    }
}

/// Chinese numerals as used in addresses and ordinals (三号楼, 十二单元):
/// the value of a run of 〇一二…十百, `None` if the text is not such a run.
pub fn chinese_numeral_value(s: &str) -> Option<u32> {
    chinese_numeral_value_chars(s.chars())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_full_width_and_spaces() {
        assert_eq!(fold_width('１'), '1');
        assert_eq!(fold_width('Ｘ'), 'X');
        assert_eq!(fold_width('（'), '(');
        assert_eq!(fold_width('\u{3000}'), ' ');
        assert_eq!(fold_width('张'), '张');
        assert!(is_space('\u{3000}') && is_space('\u{200B}') && !is_space('a'));
        assert!(is_middle_dot('•') && is_middle_dot('·') && !is_middle_dot('-'));
    }

    #[test]
    fn simplifies_common_name_characters() {
        let s: String = "張偉陳劉趙鄭區".chars().map(to_simplified).collect();
        assert_eq!(s, "张伟陈刘赵郑区");
        assert_eq!(to_simplified('张'), '张');
        assert_eq!(to_simplified('於'), '於');
        assert_eq!(to_simplified('a'), 'a');
    }

    #[test]
    fn reads_chinese_numerals() {
        assert_eq!(chinese_numeral_value("三"), Some(3));
        assert_eq!(chinese_numeral_value("十二"), Some(12));
        assert_eq!(chinese_numeral_value("二十"), Some(20));
        assert_eq!(chinese_numeral_value("一百零五"), Some(105));
        assert_eq!(chinese_numeral_value("一〇二"), Some(102));
        assert_eq!(chinese_numeral_value("三a"), None);
        assert_eq!(chinese_numeral_value(""), None);
    }
}
