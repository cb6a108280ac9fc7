//! The GB 32100 and GB 11714 check rules as plain functions over bytes.

/// The 31 symbols of a credit code, in value order (no I, O, S, V, Z).
pub const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of the first 17 characters of a credit code.
pub const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn uscc_value(c: u8) -> Option<u32> {
    USCC_ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// The check symbol of a credit code from its first 17 characters; `None` if
/// a character is outside the credit-code alphabet.
pub fn uscc_check_char(first17: &[u8]) -> Option<u8> {
    if first17.len() != 17 {
        return None;
    }
    let mut s = 0u32;
    for (&c, w) in first17.iter().zip(USCC_WEIGHTS) {
        s += uscc_value(c)? * w;
    }
    Some(USCC_ALPHABET[((31 - s % 31) % 31) as usize])
}

/// The check character of an organisation code (GB 11714) from its first 8
/// characters (0-9, A-Z); `None` on any other character.
pub fn org_code_check_char(first8: &[u8]) -> Option<u8> {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    if first8.len() != 8 {
        return None;
    }
    let mut s = 0u32;
    for (&c, w) in first8.iter().zip(W) {
        let v = match c {
            b'0'..=b'9' => (c - b'0') as u32,
            b'A'..=b'Z' => (c - b'A') as u32 + 10,
            _ => return None,
        };
        s += v * w;
    }
    Some(match 11 - s % 11 {
        10 => b'X',
        11 => b'0',
        n => b'0' + n as u8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_examples_from_domain_reference() {
        assert_eq!(uscc_check_char(b"91350100M000100Y4"), Some(b'3'));
        assert_eq!(org_code_check_char(b"M000100Y"), Some(b'4'));
        assert_eq!(uscc_check_char(b"91350100M000100I4"), None);
    }
}
