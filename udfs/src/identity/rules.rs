//! The GB 11643 rules as plain functions over bytes.
//!
//! Validation works on the raw bytes of the common case (18 ASCII characters)
//! without allocating; anything else goes through [`id_clean`], which folds
//! full-width digits, drops spaces and upper-cases `x` into a stack buffer.

use crate::common::dates::is_valid_date;
use crate::common::text::{fold_width, is_space};

/// Weights of the first 17 digits in the check computation.
pub const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

const ID_CHECK: &[u8; 11] = b"10X98765432";

/// Earliest birth year accepted in an 18-digit number (the published example
/// 440524188001010014 was born in 1880).
pub const MIN_BIRTH_YEAR: i32 = 1800;
/// Latest birth year accepted.
pub const MAX_BIRTH_YEAR: i32 = 2099;

/// The check character of an 18-character identity number, from its first 17
/// characters; `None` if any of them is not an ASCII digit.
pub fn id_check_char(first17: &[u8]) -> Option<u8> {
    if first17.len() != 17 {
        return None;
    }
    let mut s = 0u32;
    for (d, w) in first17.iter().zip(ID_WEIGHTS) {
        if !d.is_ascii_digit() {
            return None;
        }
        s += (d - b'0') as u32 * w;
    }
    Some(ID_CHECK[(s % 11) as usize])
}

/// Province-level prefixes (first two digits) that appear in identity
/// numbers: the 31 mainland provinces plus Taiwan (71), Hong Kong (81),
/// Macao (82) and the Taiwan-resident permit series (83).
const PROVINCES: [bool; 100] = {
    let mut t = [false; 100];
    let codes: [usize; 35] = [
        11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51,
        52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
    ];
    let mut i = 0;
    while i < codes.len() {
        t[codes[i]] = true;
        i += 1;
    }
    t
};

/// True if the two ASCII digits are a known province-level code.
#[inline]
pub(crate) fn is_province_prefix(a: u8, b: u8) -> bool {
    a.is_ascii_digit() && b.is_ascii_digit() && PROVINCES[((a - b'0') * 10 + (b - b'0')) as usize]
}

/// Why an identity number is not valid, in the order the checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdInvalid {
    /// Not 18 (or legacy 15) characters once spaces are removed.
    Length,
    /// A character other than digits and a final `X`.
    Characters,
    /// The birth date is not a real calendar date (or out of range).
    Date,
    /// The first two digits are not a province-level area code.
    Area,
    /// The 18th character does not match the check computation.
    CheckDigit,
}

impl IdInvalid {
    /// The reason as the short code `id_invalid_reason` returns.
    pub fn as_str(self) -> &'static str {
        match self {
            IdInvalid::Length => "length",
            IdInvalid::Characters => "characters",
            IdInvalid::Date => "date",
            IdInvalid::Area => "area",
            IdInvalid::CheckDigit => "check_digit",
        }
    }
}

/// The fields of a valid identity number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdInfo {
    /// The 6-digit area code of first registration, as ASCII.
    pub area: [u8; 6],
    /// Birth year, month and day.
    pub birth: (i32, u32, u32),
    /// True for a male (odd sequence digit).
    pub male: bool,
    /// True if the number was given in the legacy 15-digit form.
    pub legacy15: bool,
}

/// An identity number cleaned into canonical bytes (15 or 18 of them).
#[derive(Debug, Clone, Copy)]
pub struct IdBuf {
    bytes: [u8; 18],
    len: usize,
}

impl IdBuf {
    /// The cleaned characters (ASCII digits, possibly a final `X`).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Cleans a raw value without allocating: drops spaces and hyphens, folds
/// full-width characters, upper-cases `x`. Fails with `Length` if the count
/// of remaining characters is not 15 or 18, then `Characters` if any is not a
/// digit (or the final `X` of an 18-character number).
pub fn id_clean(s: &str) -> Result<IdBuf, IdInvalid> {
    let mut buf = IdBuf {
        bytes: [0; 18],
        len: 0,
    };
    let mut count = 0usize;
    let mut bad = false;
    for c in s.chars() {
        if is_space(c) || c == '-' {
            continue;
        }
        count += 1;
        if count > 18 {
            return Err(IdInvalid::Length);
        }
        let c = match fold_width(c) {
            'x' => 'X',
            c => c,
        };
        if c.is_ascii_digit() || c == 'X' {
            buf.bytes[count - 1] = c as u8;
        } else {
            bad = true;
        }
    }
    if count != 15 && count != 18 {
        return Err(IdInvalid::Length);
    }
    buf.len = count;
    let b = buf.as_bytes();
    let digits = if count == 18 { &b[..17] } else { b };
    if bad || !digits.iter().all(u8::is_ascii_digit) {
        return Err(IdInvalid::Characters);
    }
    Ok(buf)
}

#[inline]
fn two(b: &[u8]) -> u32 {
    (b[0] - b'0') as u32 * 10 + (b[1] - b'0') as u32
}

/// Validates canonical bytes: 18 characters (17 digits and a check digit or
/// `X`/`x`) or 15 digits. The caller has checked length and characters.
#[inline]
fn validate_canonical(b: &[u8]) -> Result<IdInfo, IdInvalid> {
    let (year, mmdd, seq_digit) = if b.len() == 18 {
        (
            two(&b[6..8]) as i32 * 100 + two(&b[8..10]) as i32,
            &b[10..14],
            b[16],
        )
    } else {
        (1900 + two(&b[6..8]) as i32, &b[8..12], b[14])
    };
    let (month, day) = (two(&mmdd[0..2]), two(&mmdd[2..4]));
    if !(MIN_BIRTH_YEAR..=MAX_BIRTH_YEAR).contains(&year) || !is_valid_date(year, month, day) {
        return Err(IdInvalid::Date);
    }
    if !is_province_prefix(b[0], b[1]) {
        return Err(IdInvalid::Area);
    }
    if b.len() == 18 {
        let expected = id_check_char(&b[..17]).ok_or(IdInvalid::Characters)?;
        if b[17].to_ascii_uppercase() != expected {
            return Err(IdInvalid::CheckDigit);
        }
    }
    let mut area = [0u8; 6];
    area.copy_from_slice(&b[..6]);
    Ok(IdInfo {
        area,
        birth: (year, month, day),
        male: (seq_digit - b'0') % 2 == 1,
        legacy15: b.len() == 15,
    })
}

/// Validates an identity number as found in data: 18 characters, or the
/// legacy 15-digit form; spaces, full-width digits and a lower-case `x` are
/// tolerated (they are formatting, not identity). Returns the decoded fields
/// or the first failed check.
#[inline]
pub fn id_validate(s: &str) -> Result<IdInfo, IdInvalid> {
    let b = s.as_bytes();
    // Fast path: the canonical shapes need no cleaning.
    let canonical = match b.len() {
        18 => b[..17].iter().all(u8::is_ascii_digit) && matches!(b[17], b'0'..=b'9' | b'X' | b'x'),
        15 => b.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if canonical {
        validate_canonical(b)
    } else {
        validate_canonical(id_clean(s)?.as_bytes())
    }
}

/// True if [`id_validate`] accepts the value.
#[inline]
pub fn id_is_valid(s: &str) -> bool {
    id_validate(s).is_ok()
}

/// Writes the normalised form of an identity number into `out`: spaces and
/// hyphens removed, full-width folded, `x` upper-cased, and a 15-digit number
/// converted to 18 digits ("19" inserted after the area code, check digit
/// computed). A value that cannot be cleaned is written trimmed and folded
/// but otherwise as it was, so that it can still be inspected.
pub fn id_normalize_into(s: &str, out: &mut String) {
    match id_clean(s) {
        Ok(buf) => {
            let b = buf.as_bytes();
            if b.len() == 15 {
                let mut full = [0u8; 17];
                full[..6].copy_from_slice(&b[..6]);
                full[6..8].copy_from_slice(b"19");
                full[8..].copy_from_slice(&b[6..]);
                for &c in &full {
                    out.push(c as char);
                }
                // All 17 are digits, so a check character always exists.
                out.push(id_check_char(&full).map(char::from).unwrap_or('X'));
            } else {
                for &c in b {
                    out.push(c as char);
                }
            }
        }
        Err(_) => {
            for c in s.trim_matches(is_space).chars() {
                out.push(fold_width(c));
            }
        }
    }
}

/// True if `s` is already in normalised 18-character form, so normalisation
/// can return it unchanged.
#[inline]
pub(crate) fn is_normalized_18(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 18 && b[..17].iter().all(u8::is_ascii_digit) && matches!(b[17], b'0'..=b'9' | b'X')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_examples_from_domain_reference() {
        assert_eq!(id_check_char(b"11010519491231002"), Some(b'X'));
        assert_eq!(id_check_char(b"44052418800101001"), Some(b'4'));
        assert_eq!(id_check_char(b"4405241880010100"), None);
        assert_eq!(id_check_char(b"4405241880010100a"), None);
    }

    #[test]
    fn validates_and_decodes() {
        let info = id_validate("11010519491231002X").unwrap();
        assert_eq!(&info.area, b"110105");
        assert_eq!(info.birth, (1949, 12, 31));
        assert!(!info.male);
        assert!(id_is_valid("440524188001010014"));
        assert!(id_is_valid("11010519491231002x"));
        assert!(id_is_valid(" １１０１０５１９４９１２３１００２Ｘ "));
        let legacy = id_validate("110105491231002").unwrap();
        assert!(legacy.legacy15);
        assert_eq!(legacy.birth, (1949, 12, 31));
    }

    #[test]
    fn gives_reasons() {
        assert_eq!(id_validate(""), Err(IdInvalid::Length));
        assert_eq!(id_validate("11010519491231002"), Err(IdInvalid::Length));
        assert_eq!(
            id_validate("1101051949123100XX"),
            Err(IdInvalid::Characters)
        );
        assert_eq!(
            id_validate("370602********1234"),
            Err(IdInvalid::Characters)
        );
        assert_eq!(id_validate("110105194902300021"), Err(IdInvalid::Date));
        assert_eq!(id_validate("990105194912310021"), Err(IdInvalid::Area));
        assert_eq!(
            id_validate("110105194912310021"),
            Err(IdInvalid::CheckDigit)
        );
        assert_eq!(id_validate(&"1".repeat(10_000)), Err(IdInvalid::Length));
    }

    #[test]
    fn normalizes() {
        let n = |s: &str| {
            let mut o = String::new();
            id_normalize_into(s, &mut o);
            o
        };
        assert_eq!(n("110105491231002"), "11010519491231002X");
        assert_eq!(n(" 11010519491231002x"), "11010519491231002X");
        assert_eq!(n("110105 19491231 002X"), "11010519491231002X");
        assert_eq!(
            n("１１０１０５１９４９１２３１００２ｘ"),
            "11010519491231002X"
        );
        assert_eq!(n(" abc "), "abc");
        assert_eq!(n(""), "");
    }
}
