//! The GB 32100 and GB 11714 rules as plain functions over bytes.
//!
//! Character values come from 256-entry lookup tables so that validating a
//! credit code is 17 table lookups and multiply-adds, with no allocation.

use crate::common::text::{fold_width, is_space};
use crate::identity::is_province_prefix;

/// The 31 symbols of a credit code, in value order (no I, O, S, V, Z).
pub const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of the first 17 characters of a credit code.
pub const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Weights of the first 8 characters of an organisation code.
pub const ORG_CODE_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

const INVALID: u8 = 0xFF;

/// Value of each byte in the credit-code alphabet, `INVALID` elsewhere.
const USCC_VALUE: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < USCC_ALPHABET.len() {
        t[USCC_ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Value of each byte in the organisation-code alphabet (0-9, A-Z with
/// A = 10), `INVALID` elsewhere.
const ORG_VALUE: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut j = 0;
    while j < 26 {
        t[b'A' as usize + j] = 10 + j as u8;
        j += 1;
    }
    t
};

/// The check symbol of a credit code from its first 17 characters; `None` if
/// a character is outside the credit-code alphabet.
pub fn uscc_check_char(first17: &[u8]) -> Option<u8> {
    if first17.len() != 17 {
        return None;
    }
    let mut s = 0u32;
    for (&c, w) in first17.iter().zip(USCC_WEIGHTS) {
        let v = USCC_VALUE[c as usize];
        if v == INVALID {
            return None;
        }
        s += v as u32 * w;
    }
    Some(USCC_ALPHABET[((31 - s % 31) % 31) as usize])
}

/// The check character of an organisation code (GB 11714) from its first 8
/// characters (0-9, A-Z); `None` on any other character.
pub fn org_code_check_char(first8: &[u8]) -> Option<u8> {
    if first8.len() != 8 {
        return None;
    }
    let mut s = 0u32;
    for (&c, w) in first8.iter().zip(ORG_CODE_WEIGHTS) {
        let v = ORG_VALUE[c as usize];
        if v == INVALID {
            return None;
        }
        s += v as u32 * w;
    }
    Some(match 11 - s % 11 {
        10 => b'X',
        11 => b'0',
        n => b'0' + n as u8,
    })
}

/// Registration departments (登记管理部门) by their code, the first character.
pub const DEPARTMENTS: &[(u8, &str)] = &[
    (b'1', "机构编制"),
    (b'2', "外交"),
    (b'3', "司法行政"),
    (b'4', "文化"),
    (b'5', "民政"),
    (b'6', "旅游"),
    (b'7', "宗教"),
    (b'8', "工会"),
    (b'9', "工商"),
    (b'A', "中央军委改革和编制办公室"),
    (b'N', "农业"),
    (b'Y', "其他"),
];

/// Organisation types (机构类别) by department and type code.
const ORG_TYPES: &[(u8, u8, &str)] = &[
    (b'1', b'1', "机关"),
    (b'1', b'2', "事业单位"),
    (b'1', b'3', "中央编办直接管理机构编制的群众团体"),
    (b'1', b'9', "其他"),
    (b'2', b'1', "外国常驻新闻机构"),
    (b'2', b'9', "其他"),
    (b'3', b'1', "律师执业机构"),
    (b'3', b'2', "公证处"),
    (b'3', b'3', "基层法律服务所"),
    (b'3', b'4', "司法鉴定机构"),
    (b'3', b'5', "仲裁委员会"),
    (b'3', b'9', "其他"),
    (b'4', b'1', "外国在华文化中心"),
    (b'4', b'9', "其他"),
    (b'5', b'1', "社会团体"),
    (b'5', b'2', "民办非企业单位"),
    (b'5', b'3', "基金会"),
    (b'5', b'9', "其他"),
    (b'6', b'1', "外国旅游部门常驻代表机构"),
    (b'6', b'2', "港澳台地区旅游部门常驻内地（大陆）代表机构"),
    (b'6', b'9', "其他"),
    (b'7', b'1', "宗教活动场所"),
    (b'7', b'2', "宗教院校"),
    (b'7', b'9', "其他"),
    (b'8', b'1', "基层工会"),
    (b'8', b'9', "其他"),
    (b'9', b'1', "企业"),
    (b'9', b'2', "个体工商户"),
    (b'9', b'3', "农民专业合作社"),
    (b'A', b'1', "军队事业单位"),
    (b'A', b'9', "其他"),
    (b'N', b'1', "组级集体经济组织"),
    (b'N', b'2', "村级集体经济组织"),
    (b'N', b'3', "乡镇级集体经济组织"),
    (b'N', b'9', "其他"),
    (b'Y', b'1', "其他"),
];

/// The name of a registration department code.
pub fn department_name(code: u8) -> Option<&'static str> {
    DEPARTMENTS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| *n)
}

/// The name of an organisation type within a department.
pub fn org_type_name(department: u8, org_type: u8) -> Option<&'static str> {
    ORG_TYPES
        .iter()
        .find(|(d, t, _)| *d == department && *t == org_type)
        .map(|(_, _, n)| *n)
}

/// Why a credit code is not valid, in the order the checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UsccInvalid {
    /// Not 18 characters (and not one of the older forms below).
    Length,
    /// A 15-digit business registration number (工商注册号) from before 2015.
    OldRegistrationNumber,
    /// A bare organisation code (9 characters or XXXXXXXX-X), not a credit code.
    OrganizationCodeOnly,
    /// A character outside the 31-symbol alphabet (I, O, S, V, Z, punctuation).
    Characters,
    /// The first character is not a registration department.
    Department,
    /// Characters 3-8 are not an administrative division code.
    Area,
    /// The 18th character does not match the check computation.
    CheckDigit,
    /// The embedded organisation code (characters 9-17) fails its own check.
    OrgCode,
}

impl UsccInvalid {
    /// The reason as the short code `uscc_invalid_reason` returns.
    pub fn as_str(self) -> &'static str {
        match self {
            UsccInvalid::Length => "length",
            UsccInvalid::OldRegistrationNumber => "old_registration_number",
            UsccInvalid::OrganizationCodeOnly => "organization_code_only",
            UsccInvalid::Characters => "characters",
            UsccInvalid::Department => "department",
            UsccInvalid::Area => "area",
            UsccInvalid::CheckDigit => "check_digit",
            UsccInvalid::OrgCode => "org_code",
        }
    }
}

/// A code cleaned into canonical bytes: spaces and hyphens dropped,
/// full-width folded, letters upper-cased. Holds at most 18 bytes; longer
/// inputs only record their length.
#[derive(Debug, Clone, Copy)]
pub struct CodeBuf {
    bytes: [u8; 18],
    len: usize,
    /// Count of significant characters (may exceed 18).
    pub count: usize,
    /// True if a non-ASCII-alphanumeric character was seen.
    pub bad_char: bool,
    /// True if a hyphen was seen (the old XXXXXXXX-X organisation code form).
    pub hyphen: bool,
}

impl CodeBuf {
    /// The cleaned characters (empty if there were more than 18).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Cleans a raw code without allocating.
pub fn code_clean(s: &str) -> CodeBuf {
    let mut buf = CodeBuf {
        bytes: [0; 18],
        len: 0,
        count: 0,
        bad_char: false,
        hyphen: false,
    };
    for c in s.chars() {
        if is_space(c) {
            continue;
        }
        let c = fold_width(c);
        if c == '-' || c == '\u{2014}' || c == '\u{2013}' {
            buf.hyphen = true;
            continue;
        }
        buf.count += 1;
        if buf.count > 18 {
            // Keep counting (for the reason) but stop storing; a 10 KB value
            // is still one pass with no allocation.
            continue;
        }
        let c = c.to_ascii_uppercase();
        if c.is_ascii_alphanumeric() {
            buf.bytes[buf.count - 1] = c as u8;
        } else {
            buf.bad_char = true;
            buf.bytes[buf.count - 1] = b'?';
        }
    }
    buf.len = buf.count.min(18);
    if buf.count > 18 {
        buf.len = 0;
    }
    buf
}

/// Validates 18 canonical bytes.
#[inline]
fn validate_uscc_bytes(b: &[u8]) -> Result<(), UsccInvalid> {
    let mut s = 0u32;
    for (&c, w) in b[..17].iter().zip(USCC_WEIGHTS) {
        let v = USCC_VALUE[c as usize];
        if v == INVALID {
            return Err(UsccInvalid::Characters);
        }
        s += v as u32 * w;
    }
    let check = USCC_VALUE[b[17] as usize];
    if check == INVALID {
        return Err(UsccInvalid::Characters);
    }
    if department_name(b[0]).is_none() {
        return Err(UsccInvalid::Department);
    }
    let area = &b[2..8];
    if !area.iter().all(u8::is_ascii_digit)
        || !(is_province_prefix(area[0], area[1]) || (area[0] == b'1' && area[1] == b'0'))
    {
        return Err(UsccInvalid::Area);
    }
    if check as u32 != (31 - s % 31) % 31 {
        return Err(UsccInvalid::CheckDigit);
    }
    if org_code_check_char(&b[8..16]) != Some(b[16]) {
        return Err(UsccInvalid::OrgCode);
    }
    Ok(())
}

/// Validates a Unified Social Credit Code as found in data; spaces,
/// full-width characters and lower case are tolerated.
#[inline]
pub fn uscc_validate(s: &str) -> Result<(), UsccInvalid> {
    let b = s.as_bytes();
    if b.len() == 18
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return validate_uscc_bytes(b);
    }
    let buf = code_clean(s);
    match buf.count {
        18 if !buf.bad_char => validate_uscc_bytes(buf.as_bytes()),
        18 => Err(UsccInvalid::Characters),
        15 if !buf.hyphen && buf.as_bytes().iter().all(u8::is_ascii_digit) => {
            Err(UsccInvalid::OldRegistrationNumber)
        }
        9 if org_code_validate(s).is_ok() => Err(UsccInvalid::OrganizationCodeOnly),
        _ => Err(UsccInvalid::Length),
    }
}

/// True if [`uscc_validate`] accepts the value.
#[inline]
pub fn uscc_is_valid(s: &str) -> bool {
    uscc_validate(s).is_ok()
}

/// Writes the normalised credit code (or whatever the cleaning leaves of a
/// value that is not one) into `out`.
pub fn code_normalize_into(s: &str, out: &mut String) {
    let buf = code_clean(s);
    if buf.count <= 18 && !buf.bad_char {
        out.extend(buf.as_bytes().iter().map(|&b| b as char));
    } else {
        out.extend(
            s.trim_matches(is_space)
                .chars()
                .map(|c| fold_width(c).to_ascii_uppercase()),
        );
    }
}

/// Why an organisation code is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrgCodeInvalid {
    /// Not 9 characters once spaces and the hyphen are removed.
    Length,
    /// A character other than 0-9 and A-Z (or X/0-9 in the check position).
    Characters,
    /// The 9th character does not match the check computation.
    CheckDigit,
}

impl OrgCodeInvalid {
    /// The reason as the short code `org_code_invalid_reason` returns.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgCodeInvalid::Length => "length",
            OrgCodeInvalid::Characters => "characters",
            OrgCodeInvalid::CheckDigit => "check_digit",
        }
    }
}

/// Validates an organisation code (GB 11714) in either the 9-character form
/// or the old hyphenated form `XXXXXXXX-X`.
pub fn org_code_validate(s: &str) -> Result<(), OrgCodeInvalid> {
    let buf = code_clean(s);
    if buf.count != 9 {
        return Err(OrgCodeInvalid::Length);
    }
    let b = buf.as_bytes();
    if buf.bad_char || b[..8].iter().any(|&c| ORG_VALUE[c as usize] == INVALID) {
        return Err(OrgCodeInvalid::Characters);
    }
    if !(b[8].is_ascii_digit() || b[8] == b'X') {
        return Err(OrgCodeInvalid::Characters);
    }
    if org_code_check_char(&b[..8]) != Some(b[8]) {
        return Err(OrgCodeInvalid::CheckDigit);
    }
    Ok(())
}

/// The decoded parts of a credit code that has 18 characters from the
/// alphabet (whether or not its check digit is right).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsccParts {
    /// The normalised code.
    pub code: [u8; 18],
}

impl UsccParts {
    /// Parses the code's layout; `None` unless it cleans to 18 characters
    /// from the credit-code alphabet.
    pub fn parse(s: &str) -> Option<Self> {
        let buf = code_clean(s);
        if buf.count != 18 || buf.bad_char {
            return None;
        }
        let b = buf.as_bytes();
        if b.iter().any(|&c| USCC_VALUE[c as usize] == INVALID) {
            return None;
        }
        let mut code = [0u8; 18];
        code.copy_from_slice(b);
        Some(UsccParts { code })
    }

    fn text(&self, r: std::ops::Range<usize>) -> &str {
        // The bytes are ASCII by construction.
        std::str::from_utf8(&self.code[r]).unwrap_or("")
    }

    /// Registration department code (character 1).
    pub fn department_code(&self) -> &str {
        self.text(0..1)
    }
    /// Registration department name, if the code is known.
    pub fn department(&self) -> Option<&'static str> {
        department_name(self.code[0])
    }
    /// Organisation type code (character 2).
    pub fn org_type_code(&self) -> &str {
        self.text(1..2)
    }
    /// Organisation type name, if known for the department.
    pub fn org_type(&self) -> Option<&'static str> {
        org_type_name(self.code[0], self.code[1])
    }
    /// Administrative division code of the registering authority (3-8).
    pub fn area_code(&self) -> &str {
        self.text(2..8)
    }
    /// Embedded organisation code (9-17), without hyphen.
    pub fn org_code(&self) -> &str {
        self.text(8..17)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a valid code from a 16-character body (department, type, area,
    /// first 8 of the organisation code).
    fn complete(body16: &str) -> String {
        let org = org_code_check_char(&body16.as_bytes()[8..16]).unwrap();
        let mut s = body16.to_string();
        s.push(org as char);
        let check = uscc_check_char(s.as_bytes()).unwrap();
        s.push(check as char);
        s
    }

    #[test]
    fn worked_examples_from_domain_reference() {
        assert_eq!(uscc_check_char(b"91350100M000100Y4"), Some(b'3'));
        assert_eq!(org_code_check_char(b"M000100Y"), Some(b'4'));
        assert_eq!(uscc_check_char(b"91350100M000100I4"), None);
        assert_eq!(uscc_validate("91350100M000100Y43"), Ok(()));
        assert_eq!(org_code_validate("M000100Y-4"), Ok(()));
        assert_eq!(org_code_validate("M000100Y4"), Ok(()));
    }

    #[test]
    fn gives_reasons() {
        assert_eq!(
            uscc_validate("91350100M000100Y42"),
            Err(UsccInvalid::CheckDigit)
        );
        assert_eq!(uscc_validate("91350100M000100Y4"), Err(UsccInvalid::Length));
        assert_eq!(
            uscc_validate("370602200012345"),
            Err(UsccInvalid::OldRegistrationNumber)
        );
        assert_eq!(
            uscc_validate("M000100Y-4"),
            Err(UsccInvalid::OrganizationCodeOnly)
        );
        assert_eq!(
            uscc_validate("91350100M0001O0Y43"),
            Err(UsccInvalid::Characters)
        );
        assert_eq!(
            uscc_validate("913501 00M000100Y4!"),
            Err(UsccInvalid::Characters)
        );
        let bad_dept = complete("B1350100M000100Y");
        assert_eq!(uscc_validate(&bad_dept), Err(UsccInvalid::Department));
        let bad_area = complete("91990100M000100Y");
        assert_eq!(uscc_validate(&bad_area), Err(UsccInvalid::Area));
        // A code whose own check is right but whose organisation code is not.
        let mut s = "91350100M000100Y5".to_string();
        s.push(uscc_check_char(s.as_bytes()).unwrap() as char);
        assert_eq!(uscc_validate(&s), Err(UsccInvalid::OrgCode));
        assert_eq!(uscc_validate(""), Err(UsccInvalid::Length));
        assert_eq!(uscc_validate(&"9".repeat(10_000)), Err(UsccInvalid::Length));
        assert_eq!(
            org_code_validate("M000100Y-5"),
            Err(OrgCodeInvalid::CheckDigit)
        );
        assert_eq!(org_code_validate("M000100Y"), Err(OrgCodeInvalid::Length));
        assert_eq!(
            org_code_validate("M00010*Y4"),
            Err(OrgCodeInvalid::Characters)
        );
    }

    #[test]
    fn tolerates_formatting() {
        assert!(uscc_is_valid(" 91350100m000100y43 "));
        assert!(uscc_is_valid("９１３５０１００Ｍ０００１００Ｙ４３"));
        let mut out = String::new();
        code_normalize_into(" 91350100m000100y43 ", &mut out);
        assert_eq!(out, "91350100M000100Y43");
    }

    #[test]
    fn decodes() {
        let p = UsccParts::parse("91350100M000100Y43").unwrap();
        assert_eq!(p.department(), Some("工商"));
        assert_eq!(p.org_type(), Some("企业"));
        assert_eq!(p.area_code(), "350100");
        assert_eq!(p.org_code(), "M000100Y4");
        assert!(UsccParts::parse("91350100M000100Y4").is_none());
    }
}
