//! The masks as plain functions, called directly by the governance code and
//! wrapped as SQL functions in this module.
//!
//! Every mask is one-way: the hidden characters are replaced, not encoded,
//! and a value of an unexpected shape is masked entirely rather than shown.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::common::text::{fold_width, is_space};

/// The significant characters of a value: spaces dropped, full-width folded.
fn significant_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().filter(|c| !is_space(*c)).map(fold_width)
}

/// Calls `f` with the characters `chars` yields, gathered on the stack when
/// they are few (as in names, phones and identity numbers), so masking a
/// column does not allocate for every value.
fn gathered<R>(mut chars: impl Iterator<Item = char>, f: impl FnOnce(&[char]) -> R) -> R {
    let mut stack = ['\0'; 32];
    let mut n = 0;
    while let Some(c) = chars.next() {
        if n == stack.len() {
            let mut all = stack.to_vec();
            all.push(c);
            all.extend(chars);
            return f(&all);
        }
        stack[n] = c;
        n += 1;
    }
    f(&stack[..n])
}

/// Appends `first` characters of `chars`, then `*` for the middle, then the
/// last `last` characters; if that would leave nothing hidden the whole value
/// is replaced by `*`s.
fn keep_ends(chars: &[char], first: usize, last: usize, out: &mut String) {
    let n = chars.len();
    if first + last >= n {
        out.extend(std::iter::repeat_n('*', n));
        return;
    }
    out.extend(&chars[..first]);
    out.extend(std::iter::repeat_n('*', n - first - last));
    out.extend(&chars[n - last..]);
}

/// Writes the display mask of an identity number: `370602********1234` for
/// 18 characters (area code and the last four kept, the birth date hidden),
/// `370602******002` for the legacy 15 digits; any other shape is fully
/// masked (`*` per character), so a short or odd value never shows through.
pub fn mask_id_number_into(s: &str, out: &mut String) {
    gathered(significant_chars(s), |chars| match chars.len() {
        18 => keep_ends(chars, 6, 4, out),
        15 => keep_ends(chars, 6, 3, out),
        n => out.extend(std::iter::repeat_n('*', n)),
    })
}

/// The display mask of an identity number (see [`mask_id_number_into`]).
pub fn mask_id_number(s: &str) -> String {
    let mut out = String::with_capacity(18);
    mask_id_number_into(s, &mut out);
    out
}

/// Writes the display mask of a phone number, from its digits once the
/// `+86`/`0086` prefix and separators are removed: 11 or more digits keep the
/// first 3 and last 4 (`138****5678`, `053****3456`); 7 to 10 digits keep only
/// the last 2; anything shorter is fully masked.
pub fn mask_phone_into(s: &str, out: &mut String) {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        // The usual shape: digits only, nothing to drop or fold.
        return mask_phone_digits(s.bytes().map(char::from), false, out);
    }
    let stripped = s.trim_start_matches(|c: char| is_space(c) || c == '(' || c == '（');
    let has_plus = stripped.starts_with('+') || stripped.starts_with('＋');
    mask_phone_digits(
        significant_chars(s).filter(char::is_ascii_digit),
        has_plus,
        out,
    )
}

/// The phone mask of a number's `digits` (`has_plus`: it was written
/// with a leading `+`, so a leading 86 is the country code).
fn mask_phone_digits(digits: impl Iterator<Item = char>, has_plus: bool, out: &mut String) {
    gathered(digits, |digits| {
        let digits = if digits.len() > 11 && digits.starts_with(&['0', '0', '8', '6']) {
            &digits[4..]
        } else if digits.len() > 11
            && (has_plus || digits.len() == 13)
            && digits.starts_with(&['8', '6'])
        {
            &digits[2..]
        } else {
            digits
        };
        match digits.len() {
            n if n >= 11 => keep_ends(digits, 3, 4, out),
            n if n >= 7 => keep_ends(digits, 0, 2, out),
            n => out.extend(std::iter::repeat_n('*', n)),
        }
    })
}

/// The display mask of a phone number (see [`mask_phone_into`]).
pub fn mask_phone(s: &str) -> String {
    let mut out = String::with_capacity(11);
    mask_phone_into(s, &mut out);
    out
}

/// Writes the display mask of a personal name: `张*` for two characters,
/// `张*三` for three, first and last kept with the middle hidden for longer
/// names (`欧**娜`), `*` for a single character.
pub fn mask_name_into(s: &str, out: &mut String) {
    gathered(significant_chars(s), |chars| match chars.len() {
        0 => {}
        1 => out.push('*'),
        2 => {
            out.push(chars[0]);
            out.push('*');
        }
        _ => keep_ends(chars, 1, 1, out),
    })
}

/// The display mask of a personal name (see [`mask_name_into`]).
pub fn mask_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    mask_name_into(s, &mut out);
    out
}

/// Writes a generic mask keeping `first` leading and `last` trailing
/// characters; if they would cover the whole value, all of it is masked.
pub fn mask_partial_into(s: &str, first: usize, last: usize, out: &mut String) {
    gathered(s.chars(), |chars| keep_ends(chars, first, last, out));
}

/// A generic partial mask (see [`mask_partial_into`]).
pub fn mask_partial(s: &str, first: usize, last: usize) -> String {
    let mut out = String::with_capacity(s.len());
    mask_partial_into(s, first, last, &mut out);
    out
}

/// Number of hex characters [`keyed_hash`] returns: the first 128 bits of
/// the HMAC, enough to make collisions negligible at city scale.
pub const KEYED_HASH_HEX_LEN: usize = 32;

/// A keyed pseudonym: HMAC-SHA256 of `value` under `key`, as the first 32
/// lower-case hex characters (128 bits). Equal inputs give equal outputs, so
/// pseudonymised tables still join; without the key the value cannot be
/// recovered or confirmed by guessing.
pub fn keyed_hash(value: &[u8], key: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(keyed) => pseudonym(&keyed, value),
        Err(_) => String::new(),
    }
}

/// [`keyed_hash`] of `value` under a MAC already keyed, which the SQL
/// functions key once per batch rather than once per row.
pub(crate) fn pseudonym(keyed: &Hmac<Sha256>, value: &[u8]) -> String {
    let mut out = String::with_capacity(KEYED_HASH_HEX_LEN);
    pseudonym_into(keyed, value, &mut out);
    out
}

/// Appends [`pseudonym`] of `value` to `out`, for the SQL functions' row
/// buffers.
pub(crate) fn pseudonym_into(keyed: &Hmac<Sha256>, value: &[u8], out: &mut String) {
    let mut mac = keyed.clone();
    mac.update(value);
    hex_prefix_into(&mac.finalize().into_bytes(), out);
}

/// Appends the lower-case hex of the first [`KEYED_HASH_HEX_LEN`] / 2 bytes.
fn hex_prefix_into(bytes: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes.iter().take(KEYED_HASH_HEX_LEN / 2) {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_identity_numbers() {
        assert_eq!(mask_id_number("370602199001011234"), "370602********1234");
        assert_eq!(mask_id_number("11010519491231002X"), "110105********002X");
        assert_eq!(mask_id_number("110105491231002"), "110105******002");
        assert_eq!(mask_id_number(""), "");
        assert_eq!(mask_id_number("123"), "***");
        assert_eq!(mask_id_number("3706021990010112"), "****************");
        assert_eq!(
            mask_id_number(" 3706 0219 9001 0112 34 "),
            "370602********1234"
        );
    }

    #[test]
    fn masks_phones() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("+86 138-1234-5678"), "138****5678");
        assert_eq!(mask_phone("0086 13812345678"), "138****5678");
        assert_eq!(mask_phone("0535-6123456"), "053****3456");
        assert_eq!(mask_phone("6123456"), "*****56");
        assert_eq!(mask_phone("12"), "**");
        assert_eq!(mask_phone(""), "");
        // Digits only (the quick path) follow the same prefix rules.
        assert_eq!(mask_phone("008613812345678"), "138****5678");
        assert_eq!(mask_phone("8613812345678"), "138****5678");
        assert_eq!(mask_phone("861381234567"), "861*****4567");
    }

    #[test]
    fn masks_names() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("张小三"), "张*三");
        assert_eq!(mask_name("欧阳娜娜"), "欧**娜");
        assert_eq!(mask_name("张"), "*");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_name(" 张 三 "), "张*");
    }

    #[test]
    fn partial_mask_never_shows_everything() {
        assert_eq!(mask_partial("abcdef", 1, 2), "a***ef");
        assert_eq!(mask_partial("abc", 2, 2), "***");
        assert_eq!(mask_partial("", 0, 0), "");
    }

    #[test]
    fn values_longer_than_the_stack_buffer_mask_alike() {
        // 40 characters: more than are gathered on the stack.
        let long = "abcdefghij".repeat(4);
        assert_eq!(
            mask_partial(&long, 2, 3),
            format!("ab{}hij", "*".repeat(35))
        );
        let name = "欧".repeat(33) + "娜";
        assert_eq!(mask_name(&name), format!("欧{}娜", "*".repeat(32)));
        assert_eq!(
            mask_phone(&"1".repeat(40)),
            format!("111{}1111", "*".repeat(33))
        );
        assert_eq!(mask_id_number(&"3".repeat(33)), "*".repeat(33));
    }

    #[test]
    fn keyed_hash_is_hmac_sha256_prefix() {
        // RFC 4231 test case 2: HMAC-SHA256(key "Jefe", "what do ya want for nothing?").
        assert_eq!(
            keyed_hash(b"what do ya want for nothing?", b"Jefe"),
            "5bdcc146bf60754e6a042426089575c7"
        );
        assert_eq!(keyed_hash(b"", b"").len(), 32);
        assert_ne!(keyed_hash(b"a", b"k1"), keyed_hash(b"a", b"k2"));
    }
}
