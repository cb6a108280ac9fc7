//! The fields of one person, as a list gives them and as the linker
//! compares them.

use zhenjie_udfs::address::{address_key_into, address_parse_with, AddressScratch};
use zhenjie_udfs::calendar::days_from_civil;
use zhenjie_udfs::identity::{id_normalize_into, id_validate};
use zhenjie_udfs::names::{name_normalize_into, name_pinyin};
use zhenjie_udfs::phones::phone_normalize_into;

/// One person as a source gives them: every field may be missing. Dates are
/// days since 1970-01-01 (Arrow's `Date32`).
#[derive(Debug, Clone, Copy, Default)]
pub struct RawPerson<'a> {
    pub id_number: Option<&'a str>,
    pub name: Option<&'a str>,
    pub sex: Option<&'a str>,
    pub birth_date: Option<i32>,
    pub phone: Option<&'a str>,
    pub address: Option<&'a str>,
}

/// A person's fields cleaned for comparison; empty text means missing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prepared {
    /// The identity number in its canonical 18-character form (15-digit
    /// numbers converted, full-width folded, spaces gone, `x` upper-cased).
    pub id: String,
    /// Whether `id` passes the GB 11643 check: a valid number names exactly
    /// one person.
    pub id_valid: bool,
    /// The name in simplified characters without spacing.
    pub name: String,
    /// The name's toneless reading (homophones read alike).
    pub pinyin: String,
    /// True for male.
    pub male: Option<bool>,
    /// Days since 1970-01-01.
    pub birth: Option<i32>,
    /// The phone in canonical form.
    pub phone: String,
    /// The address down to the room, from the district on.
    pub address: String,
    /// The address down to the village or community.
    pub village: String,
}

/// Buffers reused across many records.
#[derive(Default)]
pub struct Scratch {
    chars: Vec<char>,
    address: AddressScratch,
}

/// Depth of [`Prepared::village`] in `address_key` terms.
const VILLAGE_DEPTH: usize = 5;
/// Depth of [`Prepared::address`]: everything down to the room.
const FULL_DEPTH: usize = 10;

impl Prepared {
    /// Cleans one person's fields. Sex and birth date missing from the
    /// source are read from a valid identity number, which encodes both.
    pub fn new(raw: &RawPerson<'_>, scratch: &mut Scratch) -> Prepared {
        let mut p = Prepared::default();
        if let Some(id) = raw.id_number.filter(|s| !s.trim().is_empty()) {
            id_normalize_into(id, &mut p.id);
            if let Ok(info) = id_validate(&p.id) {
                p.id_valid = p.id.len() == 18;
                let (y, m, d) = info.birth;
                p.birth = Some(days_from_civil(y, m, d));
                p.male = Some(info.male);
            }
        }
        if let Some(name) = raw.name {
            name_normalize_into(name, &mut scratch.chars, &mut p.name);
            p.pinyin = name_pinyin(&p.name);
        }
        if let Some(sex) = raw.sex.and_then(parse_sex) {
            p.male = Some(sex);
        }
        if raw.birth_date.is_some() {
            p.birth = raw.birth_date;
        }
        if let Some(phone) = raw.phone.filter(|s| !s.trim().is_empty()) {
            phone_normalize_into(phone, None, &mut p.phone);
        }
        if let Some(address) = raw.address.filter(|s| !s.trim().is_empty()) {
            let a = address_parse_with(&mut scratch.address, address);
            if !address_key_into(&a, FULL_DEPTH, &mut p.address) {
                p.address.clear();
            }
            if !address_key_into(&a, VILLAGE_DEPTH, &mut p.village) {
                p.village.clear();
            }
        }
        p
    }
}

/// Sex as registers and lists write it.
fn parse_sex(s: &str) -> Option<bool> {
    match s.trim() {
        "男" | "M" | "m" | "male" | "1" => Some(true),
        "女" | "F" | "f" | "female" | "2" => Some(false),
        _ => None,
    }
}

/// Cleans many records on every core (cleaning reads pinyin and parses
/// addresses, the costly part of linking a large register).
pub fn prepare_all(raw: &[RawPerson<'_>]) -> Vec<Prepared> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let chunk = raw.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let parts: Vec<_> = raw
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut scratch = Scratch::default();
                    part.iter()
                        .map(|r| Prepared::new(r, &mut scratch))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|h| h.join().expect("cleaning does not panic"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prep(raw: RawPerson<'_>) -> Prepared {
        Prepared::new(&raw, &mut Scratch::default())
    }

    #[test]
    fn identity_numbers_are_cleaned_and_fill_sex_and_birth() {
        let p = prep(RawPerson {
            id_number: Some(" 110105491231002 "),
            ..Default::default()
        });
        assert_eq!(p.id, "11010519491231002X");
        assert!(p.id_valid);
        assert_eq!(p.male, Some(false));
        assert_eq!(p.birth, Some(days_from_civil(1949, 12, 31)));
        let full = prep(RawPerson {
            id_number: Some("１１０１０５１９４９１２３１００２x"),
            ..Default::default()
        });
        assert_eq!(full.id, "11010519491231002X");
        let bad = prep(RawPerson {
            id_number: Some("11010519491231020X"),
            ..Default::default()
        });
        assert!(!bad.id_valid);
        assert_eq!(bad.birth, None);
    }

    #[test]
    fn names_fold_to_simplified_and_read_as_pinyin() {
        let p = prep(RawPerson {
            name: Some("張 偉"),
            sex: Some("男"),
            ..Default::default()
        });
        assert_eq!(p.name, "张伟");
        assert_eq!(
            p.pinyin,
            prep(RawPerson {
                name: Some("章伟"),
                ..Default::default()
            })
            .pinyin
        );
        assert_eq!(p.male, Some(true));
    }

    #[test]
    fn addresses_without_province_and_city_key_alike() {
        let a = prep(RawPerson {
            address: Some("山东省烟台市芝罘区向阳街道幸福社区建设路12号3单元502室"),
            ..Default::default()
        });
        let b = prep(RawPerson {
            address: Some("芝罘区向阳街道幸福社区建设路12号3单元502室"),
            ..Default::default()
        });
        assert!(!a.address.is_empty());
        assert_eq!(a.address, b.address);
        assert_eq!(a.village, b.village);
        assert_ne!(a.village, a.address);
    }
}
