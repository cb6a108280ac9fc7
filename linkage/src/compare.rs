//! Comparison levels: how far two records agree on each field.

use crate::record::Prepared;
use zhenjie_udfs::calendar::civil_from_days;
use zhenjie_udfs::names::{jaro_winkler_with, Scratch};

/// The fields a person is compared on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Id,
    Name,
    Birth,
    Sex,
    Phone,
    Address,
}

/// Every field, in the order of [`Comparison::levels`].
pub const FIELDS: [Field; 6] = [
    Field::Id,
    Field::Name,
    Field::Birth,
    Field::Sex,
    Field::Phone,
    Field::Address,
];

impl Field {
    /// The field's name in reasons and catalogs.
    pub fn name(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Name => "name",
            Field::Birth => "birth",
            Field::Sex => "sex",
            Field::Phone => "phone",
            Field::Address => "address",
        }
    }

    /// Its levels, from disagreement (0) to full agreement (last).
    pub fn levels(self) -> &'static [&'static str] {
        match self {
            Field::Id => &["different", "one_edit", "exact"],
            Field::Name => &["different", "same_surname", "close", "same_pinyin", "exact"],
            Field::Birth => &["different", "same_year", "day_month_swapped", "exact"],
            Field::Sex => &["different", "same"],
            Field::Phone => &["different", "exact"],
            Field::Address => &["different", "same_village", "exact"],
        }
    }

    /// Position in [`FIELDS`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// One compared pair: a level per field (`None` where either side lacks
/// it), and whether the two carry different valid identity numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Comparison {
    pub levels: [Option<u8>; 6],
    /// Two valid identity numbers that differ: two different people.
    pub conflict: bool,
}

impl Comparison {
    /// The comparison as a 19-bit number (3 bits a field, 7 for missing, and
    /// the conflict bit): millions of pairs are counted by pattern in an
    /// array instead of a hash map.
    pub fn code(&self) -> u32 {
        let mut code = u32::from(self.conflict);
        for l in self.levels {
            code = (code << 3) | l.map_or(7, u32::from);
        }
        code
    }

    /// The comparison a [`Comparison::code`] stands for.
    pub fn from_code(mut code: u32) -> Comparison {
        let mut levels = [None; 6];
        for l in levels.iter_mut().rev() {
            let v = code & 7;
            *l = (v != 7).then_some(v as u8);
            code >>= 3;
        }
        Comparison {
            levels,
            conflict: code & 1 == 1,
        }
    }
}

/// The number of distinct [`Comparison::code`]s.
pub const CODES: usize = 1 << 19;

/// Reused buffers for comparing many pairs.
#[derive(Default)]
pub struct Comparer {
    scratch: Scratch,
}

/// Reading similarity from which two names count as close.
const CLOSE_PINYIN: f64 = 0.9;

impl Comparer {
    /// Compares a list record with a register record.
    pub fn compare(&mut self, a: &Prepared, b: &Prepared) -> Comparison {
        let mut levels = [None; 6];
        let mut conflict = false;
        if !a.id.is_empty() && !b.id.is_empty() {
            levels[0] = Some(if a.id == b.id {
                2
            } else if a.id_valid && b.id_valid {
                conflict = true;
                0
            } else if one_edit(a.id.as_bytes(), b.id.as_bytes()) {
                1
            } else {
                0
            });
        }
        if !a.name.is_empty() && !b.name.is_empty() {
            levels[1] = Some(if a.name == b.name {
                4
            } else if a.pinyin == b.pinyin {
                3
            } else if jaro_winkler_with(&mut self.scratch, &a.pinyin, &b.pinyin) >= CLOSE_PINYIN {
                2
            } else if a.name.chars().next() == b.name.chars().next() {
                1
            } else {
                0
            });
        }
        if let (Some(x), Some(y)) = (a.birth, b.birth) {
            levels[2] = Some(if x == y {
                3
            } else {
                let (ya, ma, da) = civil_from_days(x);
                let (yb, mb, db) = civil_from_days(y);
                if ya == yb && ma == db && da == mb {
                    2
                } else if ya == yb {
                    1
                } else {
                    0
                }
            });
        }
        if let (Some(x), Some(y)) = (a.male, b.male) {
            levels[3] = Some(u8::from(x == y));
        }
        if !a.phone.is_empty() && !b.phone.is_empty() {
            levels[4] = Some(u8::from(a.phone == b.phone));
        }
        if !a.village.is_empty() && !b.village.is_empty() {
            levels[5] = Some(if !a.address.is_empty() && a.address == b.address {
                2
            } else if a.village == b.village {
                1
            } else {
                0
            });
        }
        Comparison { levels, conflict }
    }
}

/// Whether two identity numbers are one typing slip apart: one character
/// changed, or two neighbours swapped.
fn one_edit(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).take(3).collect();
    match diff.as_slice() {
        [_] => true,
        [i, j] => *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i],
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{RawPerson, Scratch as PrepScratch};

    fn prep(id: Option<&str>, name: &str, birth: Option<i32>) -> Prepared {
        Prepared::new(
            &RawPerson {
                id_number: id,
                name: Some(name),
                birth_date: birth,
                ..Default::default()
            },
            &mut PrepScratch::default(),
        )
    }

    #[test]
    fn levels_per_field() {
        let mut c = Comparer::default();
        let day = zhenjie_udfs::calendar::days_from_civil;
        let a = prep(Some("11010519491231002X"), "张伟", Some(day(1980, 3, 5)));
        let b = prep(Some("11010519491231002X"), "章伟", Some(day(1980, 5, 3)));
        let cmp = c.compare(&a, &b);
        assert_eq!(cmp.levels[..3], [Some(2), Some(3), Some(2)]);
        assert!(!cmp.conflict);
        // Two valid numbers that differ.
        let d = prep(Some("440524188001010014"), "张伟", None);
        let cmp = c.compare(&a, &d);
        assert!(cmp.conflict);
        assert_eq!(cmp.levels[0], Some(0));
        // A swapped pair of digits: invalid, one slip away.
        let e = prep(Some("11010519492131002X"), "张伟", None);
        let cmp = c.compare(&e, &a);
        assert_eq!((cmp.levels[0], cmp.conflict), (Some(1), false));
        // Missing on either side is no evidence.
        let f = prep(None, "", None);
        assert_eq!(c.compare(&a, &f).levels, [None; 6]);
    }

    #[test]
    fn codes_round_trip() {
        let c = Comparison {
            levels: [Some(2), None, Some(0), Some(1), None, Some(4)],
            conflict: true,
        };
        assert!((c.code() as usize) < CODES);
        assert_eq!(Comparison::from_code(c.code()), c);
    }

    #[test]
    fn one_edit_is_a_change_or_a_swap() {
        assert!(one_edit(b"123456", b"123457"));
        assert!(one_edit(b"123456", b"124356"));
        assert!(!one_edit(b"123456", b"125436"));
        assert!(!one_edit(b"123456", b"123456"));
    }
}
