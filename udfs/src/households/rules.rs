//! Relations to the household head (GB/T 4761-2008) and household keys as
//! plain functions.

use crate::address::AddressScratch;
use crate::common::text::{fold_width, is_space, to_simplified};

/// GB/T 4761-2008 codes with their standard names.
pub const RELATION_CODES: &[(&str, &str)] = &[
    ("01", "本人"),
    ("02", "户主"),
    ("10", "配偶"),
    ("11", "夫"),
    ("12", "妻"),
    ("20", "子"),
    ("21", "独生子"),
    ("22", "长子"),
    ("23", "次子"),
    ("24", "三子"),
    ("25", "四子"),
    ("26", "五子"),
    ("27", "养子或继子"),
    ("28", "女婿"),
    ("29", "其他儿子"),
    ("30", "女"),
    ("31", "独生女"),
    ("32", "长女"),
    ("33", "次女"),
    ("34", "三女"),
    ("35", "四女"),
    ("36", "五女"),
    ("37", "养女或继女"),
    ("38", "儿媳"),
    ("39", "其他女儿"),
    ("40", "孙子、孙女或外孙子、外孙女"),
    ("41", "孙子"),
    ("42", "孙女"),
    ("43", "外孙子"),
    ("44", "外孙女"),
    ("45", "孙媳妇或外孙媳妇"),
    ("46", "孙女婿或外孙女婿"),
    ("47", "曾孙子或外曾孙子"),
    ("48", "曾孙女或外曾孙女"),
    ("49", "其他孙子、孙女或外孙子、外孙女"),
    ("50", "父母"),
    ("51", "父亲"),
    ("52", "母亲"),
    ("53", "公公"),
    ("54", "婆婆"),
    ("55", "岳父"),
    ("56", "岳母"),
    ("57", "继父或养父"),
    ("58", "继母或养母"),
    ("59", "其他父母关系"),
    ("60", "祖父母或外祖父母"),
    ("61", "祖父"),
    ("62", "祖母"),
    ("63", "外祖父"),
    ("64", "外祖母"),
    ("65", "配偶的祖父母或外祖父母"),
    ("66", "曾祖父"),
    ("67", "曾祖母"),
    ("68", "配偶的曾祖父母或外曾祖父母"),
    ("69", "其他祖父母或外祖父母关系"),
    ("70", "兄弟姐妹"),
    ("71", "兄"),
    ("72", "嫂"),
    ("73", "弟"),
    ("74", "弟媳"),
    ("75", "姐姐"),
    ("76", "姐夫"),
    ("77", "妹妹"),
    ("78", "妹夫"),
    ("79", "其他兄弟姐妹"),
    ("80", "其他"),
    ("81", "伯父"),
    ("82", "伯母"),
    ("83", "叔父"),
    ("84", "婶母"),
    ("85", "舅父"),
    ("86", "舅母"),
    ("87", "姨父"),
    ("88", "姨母"),
    ("89", "姑父"),
    ("90", "姑母"),
    ("91", "堂兄弟、堂姐妹"),
    ("92", "表兄弟、表姐妹"),
    ("93", "侄子"),
    ("94", "侄女"),
    ("95", "外甥"),
    ("96", "外甥女"),
    ("97", "其他亲属"),
    ("99", "非亲属"),
];

/// Everyday and register spellings beyond the standard names.
const RELATION_ALIASES: &[(&str, &str)] = &[
    ("户主本人", "02"),
    ("爱人", "10"),
    ("丈夫", "11"),
    ("老公", "11"),
    ("妻子", "12"),
    ("老婆", "12"),
    ("儿子", "20"),
    ("二子", "23"),
    ("养子", "27"),
    ("继子", "27"),
    ("女儿", "30"),
    ("二女", "33"),
    ("养女", "37"),
    ("继女", "37"),
    ("儿媳妇", "38"),
    ("媳妇", "38"),
    ("孙辈", "40"),
    ("外孙", "43"),
    ("孙媳", "45"),
    ("孙媳妇", "45"),
    ("曾孙", "47"),
    ("父", "51"),
    ("爸爸", "51"),
    ("母", "52"),
    ("妈妈", "52"),
    ("继父", "57"),
    ("养父", "57"),
    ("继母", "58"),
    ("养母", "58"),
    ("爷爷", "61"),
    ("奶奶", "62"),
    ("外公", "63"),
    ("姥爷", "63"),
    ("姥姥", "64"),
    ("外婆", "64"),
    ("哥哥", "71"),
    ("哥", "71"),
    ("嫂子", "72"),
    ("弟弟", "73"),
    ("弟妹", "74"),
    ("姐", "75"),
    ("妹", "77"),
    ("兄弟", "70"),
    ("姐妹", "70"),
    ("伯伯", "81"),
    ("叔叔", "83"),
    ("婶婶", "84"),
    ("婶子", "84"),
    ("舅舅", "85"),
    ("舅妈", "86"),
    ("姨妈", "88"),
    ("姑姑", "90"),
    ("堂兄", "91"),
    ("堂弟", "91"),
    ("堂姐", "91"),
    ("堂妹", "91"),
    ("堂兄弟", "91"),
    ("堂姐妹", "91"),
    ("表兄", "92"),
    ("表弟", "92"),
    ("表姐", "92"),
    ("表妹", "92"),
    ("表兄弟", "92"),
    ("表姐妹", "92"),
    ("亲属", "97"),
    ("保姆", "99"),
    ("租客", "99"),
    ("租户", "99"),
    ("朋友", "99"),
    ("同事", "99"),
    ("同学", "99"),
];

/// Longest relation text considered (in bytes); longer values are not a
/// relation.
const MAX_RELATION_BYTES: usize = 64;

/// The GB/T 4761 code of a relation-to-head text (户主, 妻, 之子, 长女,
/// 外婆, …) or of a code already given (2 or 02); `None` if not recognised.
pub fn relation_code(s: &str) -> Option<&'static str> {
    let mut buf = String::with_capacity(16);
    for c in s.chars() {
        if buf.len() > MAX_RELATION_BYTES {
            return None;
        }
        if !is_space(c) {
            buf.push(to_simplified(fold_width(c)));
        }
    }
    if buf.is_empty() {
        return None;
    }
    if buf.bytes().all(|b| b.is_ascii_digit()) {
        let n: u32 = buf.parse().ok()?;
        let code = format!("{n:02}");
        return RELATION_CODES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(c, _)| *c);
    }
    // "户主之子", "户主的妻子", "之女": the relation is what follows.
    let mut t = buf.as_str();
    for prefix in ["户主之", "户主的", "户主", "之", "的"] {
        if let Some(rest) = t.strip_prefix(prefix).filter(|r| !r.is_empty()) {
            t = rest;
            break;
        }
    }
    if let Some((code, _)) = RELATION_CODES.iter().find(|(_, name)| *name == t) {
        return Some(code);
    }
    RELATION_ALIASES
        .iter()
        .find(|(name, _)| *name == t)
        .map(|(_, code)| *code)
}

/// The group a relation code belongs to, as the Chinese label used in
/// policy rules: 户主, 配偶, 子女, 子女配偶, 孙辈, 父母, 祖辈, 兄弟姐妹,
/// 其他亲属, 非亲属.
pub fn relation_group(code: &str) -> Option<&'static str> {
    let n: u32 = code.parse().ok()?;
    Some(match n {
        1 | 2 => "户主",
        10..=12 => "配偶",
        28 | 38 => "子女配偶",
        20..=39 => "子女",
        40..=49 => "孙辈",
        50..=59 => "父母",
        60..=69 => "祖辈",
        70..=79 => "兄弟姐妹",
        80..=97 => "其他亲属",
        99 => "非亲属",
        _ => return None,
    })
}

/// Writes the household key of a person into `out`: `H:` and the
/// normalised household number when there is one, otherwise `A:` and the
/// address key at `depth`; returns false if neither gives a key.
pub fn household_key_into(
    household_no: Option<&str>,
    address: Option<&str>,
    depth: usize,
    scratch: &mut AddressScratch,
    out: &mut String,
) -> bool {
    if let Some(h) = household_no {
        let start = out.len();
        out.push_str("H:");
        for c in h.chars() {
            let c = fold_width(c);
            if !is_space(c) && c != '-' {
                out.push(c.to_ascii_uppercase());
            }
        }
        if out.len() > start + 2 {
            return true;
        }
        out.truncate(start);
    }
    if let Some(a) = address {
        let start = out.len();
        out.push_str("A:");
        if scratch.key_into(a, depth, out) {
            return true;
        }
        out.truncate(start);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_from_text() {
        assert_eq!(relation_code("户主"), Some("02"));
        assert_eq!(relation_code("本人"), Some("01"));
        assert_eq!(relation_code("妻"), Some("12"));
        assert_eq!(relation_code("妻子"), Some("12"));
        assert_eq!(relation_code("户主之子"), Some("20"));
        assert_eq!(relation_code("之女"), Some("30"));
        assert_eq!(relation_code("长女"), Some("32"));
        assert_eq!(relation_code("外婆"), Some("64"));
        assert_eq!(relation_code("兒媳"), Some("38"));
        assert_eq!(relation_code(" 2 "), Some("02"));
        assert_eq!(relation_code("10"), Some("10"));
        assert_eq!(relation_code("98"), None);
        assert_eq!(relation_code("邻居家的猫"), None);
        assert_eq!(relation_code(""), None);
        assert_eq!(relation_code(&"子".repeat(5000)), None);
    }

    #[test]
    fn groups() {
        assert_eq!(relation_group("02"), Some("户主"));
        assert_eq!(relation_group("12"), Some("配偶"));
        assert_eq!(relation_group("28"), Some("子女配偶"));
        assert_eq!(relation_group("33"), Some("子女"));
        assert_eq!(relation_group("99"), Some("非亲属"));
        assert_eq!(relation_group("x"), None);
    }

    #[test]
    fn household_keys() {
        let mut s = AddressScratch::default();
        let key = |h: Option<&str>, a: Option<&str>, s: &mut AddressScratch| {
            let mut o = String::new();
            household_key_into(h, a, 10, s, &mut o).then_some(o)
        };
        assert_eq!(
            key(Some(" 3706-0200 1234 "), None, &mut s).as_deref(),
            Some("H:370602001234")
        );
        assert_eq!(
            key(
                Some(""),
                Some("芝罘区幸福街道福山路12号3号楼2单元502室"),
                &mut s
            )
            .as_deref(),
            Some("A:芝罘区|幸福街道||福山路|12|3|2|502")
        );
        assert_eq!(key(None, Some("乱写"), &mut s), None);
        assert_eq!(key(None, None, &mut s), None);
    }
}
