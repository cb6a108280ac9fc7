//! Mainland China phone numbers as plain functions: parse once into digits
//! on the stack, then format or classify.

use crate::common::text::{fold_width, is_space};

/// What kind of number a phone value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneKind {
    /// 11-digit mobile number (1[3-9]x xxxx xxxx).
    Mobile,
    /// Fixed line with its area code (0535-6123456).
    Landline,
    /// Service numbers: 400/800 numbers and short numbers (95588, 12345, 110).
    Service,
}

impl PhoneKind {
    /// The kind as `phone_type` returns it.
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneKind::Mobile => "mobile",
            PhoneKind::Landline => "landline",
            PhoneKind::Service => "service",
        }
    }
}

/// Longest digit string kept; longer values cannot be phone numbers.
const MAX_DIGITS: usize = 24;

/// The digits of the first number in a value, with whether it began with `+`.
struct Digits {
    d: [u8; MAX_DIGITS],
    len: usize,
    plus: bool,
    /// A character that is neither a digit nor a separator was seen.
    junk: bool,
    /// More digits than `MAX_DIGITS`.
    overflow: bool,
}

impl Digits {
    fn as_slice(&self) -> &[u8] {
        &self.d[..self.len]
    }
}

/// Reads the first number of a value: stops at a list separator (several
/// numbers in one field) or an extension marker (转, 分机, ext, #).
fn read_digits(s: &str) -> Digits {
    let mut out = Digits {
        d: [0; MAX_DIGITS],
        len: 0,
        plus: false,
        junk: false,
        overflow: false,
    };
    let mut chars = s.chars().map(fold_width).peekable();
    while let Some(c) = chars.next() {
        match c {
            '0'..='9' => {
                if out.len == MAX_DIGITS {
                    out.overflow = true;
                } else {
                    out.d[out.len] = c as u8;
                    out.len += 1;
                }
            }
            '+' if out.len == 0 => out.plus = true,
            c if is_space(c) => {}
            '-' | '(' | ')' | '.' | '—' | '–' | '（' | '）' | '－' => {}
            // Several numbers in one field: keep the first.
            ',' | '，' | '、' | ';' | '；' | '/' | '|' | '或' if out.len > 0 => break,
            // Extensions.
            '转' | '#' if out.len > 0 => break,
            '分' if chars.peek() == Some(&'机') && out.len > 0 => break,
            'e' | 'E' | 'x' | 'X' if out.len > 0 => break,
            _ => out.junk = true,
        }
    }
    out
}

/// A parsed number: canonical digits and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phone {
    digits: [u8; 16],
    len: usize,
    /// Length of the area code within `digits` (landlines only).
    area_len: usize,
    /// The kind of number.
    pub kind: PhoneKind,
}

impl Phone {
    /// Writes the canonical form: `13812345678`, `0535-6123456`,
    /// `400-123-4567`, `95588`.
    pub fn write(&self, out: &mut String) {
        let d = &self.digits[..self.len];
        let push = |out: &mut String, b: &[u8]| out.extend(b.iter().map(|&c| c as char));
        match self.kind {
            PhoneKind::Landline => {
                push(out, &d[..self.area_len]);
                out.push('-');
                push(out, &d[self.area_len..]);
            }
            PhoneKind::Service if self.len == 10 => {
                push(out, &d[..3]);
                out.push('-');
                push(out, &d[3..6]);
                out.push('-');
                push(out, &d[6..]);
            }
            _ => push(out, d),
        }
    }
}

/// Length of the area code at the start of `d` (which begins with 0), or
/// `None` if no area code can start that way.
fn area_code_len(d: &[u8]) -> Option<usize> {
    match d.get(1)? {
        b'1' => (d.get(2) == Some(&b'0')).then_some(3),
        b'2' => Some(3),
        b'3'..=b'9' => Some(4),
        _ => None,
    }
}

fn make(d: &[u8], area_len: usize, kind: PhoneKind) -> Phone {
    let mut digits = [0u8; 16];
    digits[..d.len()].copy_from_slice(d);
    Phone {
        digits,
        len: d.len(),
        area_len,
        kind,
    }
}

/// Parses a phone value. `default_area` (e.g. `0535`) completes a local
/// fixed-line number written without its area code.
pub fn phone_parse(s: &str, default_area: Option<&str>) -> Option<Phone> {
    let raw = read_digits(s);
    if raw.junk || raw.overflow || raw.len == 0 {
        return None;
    }
    let mut d = raw.as_slice();
    // Country code: +86, 0086, or a bare 86 before a mobile number.
    let mut international = true;
    if let Some(rest) = d.strip_prefix(b"0086") {
        d = rest;
    } else if raw.plus {
        d = d.strip_prefix(b"86")?;
    } else if d.len() == 13 && d.starts_with(b"861") {
        d = &d[2..];
    } else {
        international = false;
    }
    // In international form a fixed line drops the trunk 0 of its area code
    // (+86 535 6123456): put it back.
    let mut with_trunk = [0u8; MAX_DIGITS];
    let mobile_like = d.len() == 11 && d.first() == Some(&b'1');
    if international && !d.is_empty() && d[0] != b'0' && !mobile_like && d.len() < MAX_DIGITS {
        with_trunk[1..=d.len()].copy_from_slice(d);
        with_trunk[0] = b'0';
        d = &with_trunk[..=d.len()];
    }
    // A trunk 0 before a mobile number (013812345678) is a common mistake.
    if d.len() == 12 && d.starts_with(b"01") && matches!(d[2], b'3'..=b'9') {
        d = &d[1..];
    }
    let n = d.len();
    if n == 0 {
        return None;
    }
    if n == 11 && d[0] == b'1' && matches!(d[1], b'3'..=b'9') {
        return Some(make(d, 0, PhoneKind::Mobile));
    }
    if n == 10 && (d.starts_with(b"400") || d.starts_with(b"800")) {
        return Some(make(d, 0, PhoneKind::Service));
    }
    if d[0] == b'0' {
        let area = area_code_len(d)?;
        let subscriber = d.get(area..)?;
        if (7..=8).contains(&subscriber.len()) && matches!(subscriber[0], b'2'..=b'9') {
            return Some(make(d, area, PhoneKind::Landline));
        }
        return None;
    }
    // Short service numbers: emergency (110, 119, 120, 122), 95xxx, 96xxx,
    // 123xx government hotlines, 100xx carrier numbers.
    let service = match n {
        3 => matches!(d, b"110" | b"119" | b"120" | b"122"),
        5 => {
            d.starts_with(b"95")
                || d.starts_with(b"96")
                || d.starts_with(b"123")
                || d.starts_with(b"100")
        }
        _ => false,
    };
    if service {
        return Some(make(d, 0, PhoneKind::Service));
    }
    // A local fixed-line number: needs the default area code.
    if (7..=8).contains(&n) && matches!(d[0], b'2'..=b'9') {
        let area = read_digits(default_area?);
        let a = area.as_slice();
        if area.junk
            || area.plus
            || !(3..=4).contains(&a.len())
            || area_code_len(a) != Some(a.len())
        {
            return None;
        }
        let mut full = [0u8; 16];
        full[..a.len()].copy_from_slice(a);
        full[a.len()..a.len() + n].copy_from_slice(d);
        return Some(make(&full[..a.len() + n], a.len(), PhoneKind::Landline));
    }
    None
}

/// Writes the normalised form of a phone value: the canonical form of its
/// first number if it is a valid number, otherwise the value's digits
/// (with a leading `+` if it had one), so that nothing is silently dropped.
pub fn phone_normalize_into(s: &str, default_area: Option<&str>, out: &mut String) {
    match phone_parse(s, default_area) {
        Some(p) => p.write(out),
        None => {
            let raw = read_digits(s);
            if raw.plus {
                out.push('+');
            }
            out.extend(raw.as_slice().iter().map(|&c| c as char));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str, area: Option<&str>) -> String {
        let mut o = String::new();
        phone_normalize_into(s, area, &mut o);
        o
    }

    #[test]
    fn mobiles() {
        assert_eq!(norm("138 1234 5678", None), "13812345678");
        assert_eq!(norm("+86-138-1234-5678", None), "13812345678");
        assert_eq!(norm("0086 13812345678", None), "13812345678");
        assert_eq!(norm("8613812345678", None), "13812345678");
        assert_eq!(norm("１３８１２３４５６７８", None), "13812345678");
        assert_eq!(norm("13812345678/13987654321", None), "13812345678");
        assert_eq!(norm("013812345678", None), "13812345678");
        assert_eq!(
            phone_parse("13812345678", None).unwrap().kind,
            PhoneKind::Mobile
        );
        assert!(phone_parse("12812345678", None).is_none());
    }

    #[test]
    fn landlines_and_services() {
        assert_eq!(norm("(0535)6123456", None), "0535-6123456");
        assert_eq!(norm("0535 - 612 3456 转 801", None), "0535-6123456");
        assert_eq!(norm("010-62345678", None), "010-62345678");
        assert_eq!(norm("+86 535 6123456", None), "0535-6123456");
        assert_eq!(norm("+86 10 62345678", None), "010-62345678");
        assert_eq!(norm("6123456", Some("0535")), "0535-6123456");
        assert_eq!(norm("6123456", None), "6123456");
        assert!(phone_parse("6123456", Some("535")).is_none());
        assert_eq!(norm("400 123 4567", None), "400-123-4567");
        assert_eq!(norm("95588", None), "95588");
        assert_eq!(norm("12345", None), "12345");
        assert!(phone_parse("0535-0123456", None).is_none());
        assert!(phone_parse("abc", None).is_none());
        assert_eq!(norm("abc", None), "");
        assert!(phone_parse("", None).is_none());
        assert!(phone_parse("+86", None).is_none());
        assert!(phone_parse("0086", None).is_none());
        assert!(phone_parse("0535", None).is_none());
        assert!(phone_parse("0", None).is_none());
        assert!(phone_parse(&"1".repeat(10_000), None).is_none());
    }
}
