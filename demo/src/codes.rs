//! Unique, valid identifiers: resident identity numbers (GB 11643), organisation
//! codes (GB 11714) inside credit codes (GB 32100), and number plates. Check
//! characters come from `zhenjie-udfs`, so generator and validator cannot drift.

use crate::dates::{days_from_civil, today, yyyymmdd};
use crate::DemoError;
use rand::Rng;
use zhenjie_udfs::enterprise::{org_code_check_char, uscc_check_char, USCC_ALPHABET};
use zhenjie_udfs::identity::id_check_char;

/// Earliest birth date the generator issues numbers for.
pub(crate) fn min_birth() -> i32 {
    days_from_civil(1915, 1, 1)
}

/// Hands out identity numbers without repeats: per (address code, birth date,
/// sex) a counter, scrambled into the sequence digits so they look random.
pub(crate) struct IdAlloc {
    codes: Vec<&'static str>,
    counters: Vec<u16>,
    min_day: i32,
    days: usize,
    salt: u64,
}

/// Address codes of other Shandong cities, for people on province lists who do
/// not live in the demo city.
pub(crate) const OUTSIDE_CODES: &[&str] = &["370102", "370202", "370302", "370702", "371002"];

/// Retired Yantai county codes still found in old identity numbers.
pub(crate) const RETIRED_CODES: &[&str] = &["370684", "370634"];

impl IdAlloc {
    /// An allocator for the given county codes plus the retired and outside ones.
    pub(crate) fn new(county_codes: &[&'static str], salt: u64) -> Self {
        let mut codes: Vec<&'static str> = county_codes.to_vec();
        codes.extend_from_slice(RETIRED_CODES);
        codes.extend_from_slice(OUTSIDE_CODES);
        let min_day = min_birth();
        let days = (today() - min_day + 1) as usize;
        IdAlloc {
            counters: vec![0; codes.len() * days * 2],
            codes,
            min_day,
            days,
            salt,
        }
    }

    /// Index of an address code, if the allocator knows it.
    pub(crate) fn code_index(&self, code6: &str) -> Option<usize> {
        self.codes.iter().position(|c| *c == code6)
    }

    /// A fresh identity number for someone born on `birth` (clamped into the
    /// supported range) and the birth date it encodes: if all 500 sequence
    /// numbers of that day are taken, the next free day is used, so the number
    /// and the birth_date column always agree.
    pub(crate) fn issue(
        &mut self,
        code_index: usize,
        birth: i32,
        male: bool,
    ) -> Result<(String, i32), DemoError> {
        let code = *self
            .codes
            .get(code_index)
            .ok_or_else(|| DemoError::Internal(format!("no address code #{code_index}")))?;
        let last = self.min_day + self.days as i32 - 1;
        let mut day = birth.clamp(self.min_day, last);
        let cap: u64 = if male { 500 } else { 499 };
        for _ in 0..self.days {
            let k = ((code_index * self.days + (day - self.min_day) as usize) * 2) + male as usize;
            let c = u64::from(self.counters[k]);
            if c < cap {
                self.counters[k] += 1;
                let h = (k as u64 ^ self.salt).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
                let s = (c * 211 + h) % cap;
                let seq = if male { 2 * s + 1 } else { 2 * s + 2 };
                let first17 = format!("{code}{}{seq:03}", yyyymmdd(day));
                let check = id_check_char(first17.as_bytes()).ok_or_else(|| {
                    DemoError::Internal(format!("identity number {first17} is not digits"))
                })?;
                let mut id = first17;
                id.push(check as char);
                return Ok((id, day));
            }
            day = if day >= last { self.min_day } else { day + 1 };
        }
        Err(DemoError::Internal(format!(
            "identity numbers for address code {code} are exhausted"
        )))
    }
}

/// Hands out organisation codes (GB 11714) without repeats: modern `MA…` codes
/// (issued since 2015 with the credit-code reform) and older all-digit ones.
pub(crate) struct OrgAlloc {
    next_modern: u64,
    next_old: u64,
    offset_modern: u64,
    offset_old: u64,
}

const MODERN_SPACE: u64 = 31u64.pow(6);
const OLD_SPACE: u64 = 100_000_000;

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// A multiplier near `space` × golden ratio and coprime with `space`, so
/// `n ↦ (n × m + offset) mod space` visits every value once and consecutive
/// `n` land far apart (codes do not look sequential).
fn scramble(space: u64) -> u64 {
    let mut m = ((space as f64 * 0.618_033_988_75) as u64).max(1);
    while gcd(m, space) != 1 {
        m += 1;
    }
    m
}

fn mul_mod(a: u64, b: u64, m: u64) -> u64 {
    ((a as u128 * b as u128) % m as u128) as u64
}

impl OrgAlloc {
    /// A fresh allocator whose sequences start at seed-dependent places.
    pub(crate) fn new(rng: &mut impl Rng) -> Self {
        OrgAlloc {
            next_modern: 0,
            next_old: 0,
            offset_modern: rng.random_range(0..MODERN_SPACE),
            offset_old: rng.random_range(0..OLD_SPACE),
        }
    }

    /// The next 9-character organisation code (8 characters + check).
    pub(crate) fn issue(&mut self, modern: bool) -> Result<String, DemoError> {
        let mut code = if modern {
            let mut v = (mul_mod(self.next_modern, scramble(MODERN_SPACE), MODERN_SPACE)
                + self.offset_modern)
                % MODERN_SPACE;
            self.next_modern += 1;
            let mut tail = [b'0'; 6];
            for slot in tail.iter_mut().rev() {
                *slot = USCC_ALPHABET[(v % 31) as usize];
                v /= 31;
            }
            let mut s = String::from("MA");
            s.push_str(std::str::from_utf8(&tail).unwrap_or("000000"));
            s
        } else {
            let v = (mul_mod(self.next_old, scramble(OLD_SPACE), OLD_SPACE) + self.offset_old)
                % OLD_SPACE;
            self.next_old += 1;
            format!("{v:08}")
        };
        let check = org_code_check_char(code.as_bytes())
            .ok_or_else(|| DemoError::Internal(format!("organisation code {code} is invalid")))?;
        code.push(check as char);
        Ok(code)
    }
}

/// A Unified Social Credit Code: registration department 9 (工商), `kind`
/// (1 enterprise, 2 个体工商户, 3 农民专业合作社), the 6-digit admin code, the
/// organisation code, check.
pub(crate) fn credit_code(kind: char, admin6: &str, org9: &str) -> Result<String, DemoError> {
    let mut s = format!("9{kind}{admin6}{org9}");
    let check = uscc_check_char(s.as_bytes())
        .ok_or_else(|| DemoError::Internal(format!("credit code {s} is invalid")))?;
    s.push(check as char);
    Ok(s)
}

const PLATE_LETTERS: &[u8; 24] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";

/// Shapes of the five characters after `鲁F·`: L = letter, D = digit,
/// N = new-energy marker D/F, A = letter or digit.
const PATTERNS: &[(&str, u32)] = &[
    ("LDDDD", 40),
    ("LLDDD", 25),
    ("LDLDD", 15),
    ("LDDDL", 15),
    ("DDDDD", 5),
];
const NEV_PATTERN: &str = "NADDDD";

fn radix(c: u8) -> u64 {
    match c {
        b'L' => 24,
        b'D' => 10,
        b'N' => 2,
        _ => 34,
    }
}

fn capacity(pattern: &str) -> u64 {
    pattern.bytes().map(radix).product()
}

/// Hands out Yantai number plates (鲁F and 鲁Y) without repeats.
pub(crate) struct PlateAlloc {
    /// counters[prefix][pattern]; the last pattern is the new-energy one.
    counters: [[u64; 6]; 2],
    offsets: [[u64; 6]; 2],
}

impl PlateAlloc {
    /// A fresh allocator whose sequences start at seed-dependent places.
    pub(crate) fn new(rng: &mut impl Rng) -> Self {
        let mut offsets = [[0; 6]; 2];
        for row in offsets.iter_mut() {
            for (p, o) in row.iter_mut().enumerate() {
                *o = rng.random_range(0..capacity(pattern(p)));
            }
        }
        PlateAlloc {
            counters: [[0; 6]; 2],
            offsets,
        }
    }

    /// The next plate, e.g. `鲁F·A1234` or (new energy) `鲁F·D12345`.
    pub(crate) fn issue(
        &mut self,
        rng: &mut impl Rng,
        new_energy: bool,
    ) -> Result<String, DemoError> {
        let first_prefix = usize::from(rng.random_bool(0.15));
        let first_pattern = if new_energy {
            5
        } else {
            let total: u32 = PATTERNS.iter().map(|p| p.1).sum();
            let mut x = rng.random_range(0..total);
            let mut chosen = 0;
            for (i, p) in PATTERNS.iter().enumerate() {
                if x < p.1 {
                    chosen = i;
                    break;
                }
                x -= p.1;
            }
            chosen
        };
        for dp in 0..2 {
            let prefix = (first_prefix + dp) % 2;
            for dq in 0..6 {
                let p = (first_pattern + dq) % 6;
                let shape = pattern(p);
                let cap = capacity(shape);
                let n = self.counters[prefix][p];
                if n >= cap {
                    continue;
                }
                self.counters[prefix][p] += 1;
                let mut v = (mul_mod(n, scramble(cap), cap) + self.offsets[prefix][p]) % cap;
                let mut chars = vec![' '; shape.len()];
                for (i, c) in shape.bytes().enumerate().rev() {
                    let r = radix(c);
                    let d = (v % r) as usize;
                    v /= r;
                    chars[i] = match c {
                        b'L' => PLATE_LETTERS[d] as char,
                        b'D' => (b'0' + d as u8) as char,
                        b'N' => ['D', 'F'][d],
                        _ if d < 10 => (b'0' + d as u8) as char,
                        _ => PLATE_LETTERS[d - 10] as char,
                    };
                }
                let tail: String = chars.into_iter().collect();
                let city = if prefix == 0 { 'F' } else { 'Y' };
                return Ok(format!("鲁{city}·{tail}"));
            }
        }
        Err(DemoError::Internal("number plates are exhausted".into()))
    }
}

fn pattern(p: usize) -> &'static str {
    PATTERNS.get(p).map(|x| x.0).unwrap_or(NEV_PATTERN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use std::collections::HashSet;

    #[test]
    fn identity_numbers_are_unique_valid_and_keep_the_birth_date() {
        let mut ids = IdAlloc::new(&["370602"], 1);
        let birth = days_from_civil(1980, 5, 17);
        let mut seen = HashSet::new();
        for i in 0..1200 {
            let male = i % 2 == 0;
            let (id, day) = ids.issue(0, birth, male).unwrap();
            assert_eq!(id.len(), 18);
            assert!(id.starts_with("370602"));
            assert_eq!(&id[6..14], yyyymmdd(day));
            let seq: u32 = id[14..17].parse().unwrap();
            assert_eq!(seq % 2 == 1, male);
            assert!(seq > 0);
            assert_eq!(id_check_char(&id.as_bytes()[..17]), Some(id.as_bytes()[17]));
            assert!(seen.insert(id));
        }
    }

    #[test]
    fn organisation_and_credit_codes_pass_their_checks() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut orgs = OrgAlloc::new(&mut rng);
        let mut seen = HashSet::new();
        for i in 0..2000 {
            let org = orgs.issue(i % 3 != 0).unwrap();
            assert_eq!(
                org_code_check_char(&org.as_bytes()[..8]),
                Some(org.as_bytes()[8])
            );
            let cc = credit_code('1', "370602", &org).unwrap();
            assert_eq!(
                uscc_check_char(&cc.as_bytes()[..17]),
                Some(cc.as_bytes()[17])
            );
            assert!(seen.insert(cc));
        }
    }

    #[test]
    fn plates_are_unique() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut plates = PlateAlloc::new(&mut rng);
        let mut seen = HashSet::new();
        for i in 0..20_000 {
            let p = plates.issue(&mut rng, i % 10 == 0).unwrap();
            assert!(p.starts_with("鲁F·") || p.starts_with("鲁Y·"), "{p}");
            assert!(seen.insert(p));
        }
    }
}
