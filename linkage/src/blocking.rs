//! Blocking: which pairs are compared at all. Comparing every list row with
//! every resident is 10¹¹ pairs at city scale; pairs that share no key are
//! left out, and the keys are chosen so that a true match shares at least
//! one of them under any single kind of dirt.

use crate::model::HashKeyed;
use crate::record::Prepared;
use zhenjie_udfs::calendar::civil_from_days;

/// The blocking rules, each named for reports.
pub const RULES: [&str; 4] = [
    "name_pinyin + birth_date (day and month either way round)",
    "phone",
    "identity_digits_any_order",
    "name_pinyin + village",
];

/// Writes the record's keys, one per rule that applies, tagged by rule.
pub fn keys(p: &Prepared, out: &mut Vec<u64>) {
    use std::hash::{Hash, Hasher};
    let key = |rule: u8, parts: &[&dyn HashPart]| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        rule.hash(&mut h);
        for part in parts {
            part.feed(&mut h);
        }
        h.finish()
    };
    if !p.pinyin.is_empty() {
        if let Some(birth) = p.birth {
            // Day and month as an unordered pair: a date written the other
            // way round (5 March for 3 May) keys alike.
            let (y, m, d) = civil_from_days(birth);
            out.push(key(0, &[&y, &m.min(d), &m.max(d), &p.pinyin.as_str()]));
        }
        if !p.village.is_empty() {
            out.push(key(3, &[&p.pinyin.as_str(), &p.village.as_str()]));
        }
    }
    if !p.phone.is_empty() {
        out.push(key(1, &[&p.phone.as_str()]));
    }
    if p.id.len() >= 15 {
        // How often each character occurs: the digits in any order.
        let mut counts = [0u8; 12];
        for b in p.id.bytes() {
            let i = match b {
                b'0'..=b'9' => (b - b'0') as usize,
                b'X' => 10,
                _ => 11,
            };
            counts[i] = counts[i].saturating_add(1);
        }
        out.push(key(2, &[&counts]));
    }
}

/// Something a key is made of.
trait HashPart {
    fn feed(&self, h: &mut std::collections::hash_map::DefaultHasher);
}

impl<T: std::hash::Hash> HashPart for T {
    fn feed(&self, h: &mut std::collections::hash_map::DefaultHasher) {
        self.hash(h);
    }
}

/// The list's rows by key: `(key, row)` pairs sorted by key, and where each
/// key's run starts (a million-row list has five million keys; sorting them
/// costs less than growing a vector per key).
#[derive(Debug, Default)]
pub struct Index {
    rows: Vec<u32>,
    runs: HashKeyed<(u32, u32)>,
}

impl Index {
    /// Indexes every list row under its keys.
    pub fn new(list: &[Prepared]) -> Index {
        let mut pairs: Vec<(u64, u32)> = Vec::with_capacity(list.len() * RULES.len());
        let mut buf = Vec::new();
        for (i, p) in list.iter().enumerate() {
            buf.clear();
            keys(p, &mut buf);
            pairs.extend(buf.iter().map(|k| (*k, i as u32)));
        }
        pairs.sort_unstable();
        let mut runs = HashKeyed::default();
        runs.reserve(pairs.len());
        let mut start = 0;
        while start < pairs.len() {
            let key = pairs[start].0;
            let mut end = start + 1;
            while end < pairs.len() && pairs[end].0 == key {
                end += 1;
            }
            runs.insert(key, (start as u32, (end - start) as u32));
            start = end;
        }
        Index {
            rows: pairs.into_iter().map(|(_, r)| r).collect(),
            runs,
        }
    }

    /// The list rows sharing a key with `p`, each once, skipping keys held
    /// by more than `max_block` rows (a shared office phone, say).
    pub fn candidates(
        &self,
        p: &Prepared,
        max_block: usize,
        keys_buf: &mut Vec<u64>,
        out: &mut Vec<u32>,
    ) {
        out.clear();
        keys_buf.clear();
        keys(p, keys_buf);
        for k in keys_buf.iter() {
            if let Some(&(start, len)) = self.runs.get(k) {
                if len as usize <= max_block {
                    out.extend_from_slice(&self.rows[start as usize..(start + len) as usize]);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{RawPerson, Scratch};

    #[test]
    fn each_kind_of_dirt_leaves_a_shared_key() {
        let day = zhenjie_udfs::calendar::days_from_civil;
        let resident = RawPerson {
            id_number: Some("11010519491231002X"),
            name: Some("张伟"),
            birth_date: Some(day(1980, 3, 5)),
            phone: Some("13812345678"),
            address: Some("北京市朝阳区建国门街道幸福社区建设路1号"),
            ..Default::default()
        };
        let dirty = [
            // Transposed digits, no birth date: the digits still agree.
            RawPerson {
                id_number: Some("11010519492131002X"),
                birth_date: None,
                ..resident
            },
            // Homophone, no identity number: birth date and reading.
            RawPerson {
                id_number: None,
                name: Some("章伟"),
                phone: None,
                ..resident
            },
            // Day and month swapped, no number, phone or address: reading
            // and the date either way round.
            RawPerson {
                id_number: None,
                birth_date: Some(day(1980, 5, 3)),
                phone: None,
                address: None,
                ..resident
            },
        ];
        let mut s = Scratch::default();
        let list: Vec<Prepared> = dirty.iter().map(|r| Prepared::new(r, &mut s)).collect();
        let index = Index::new(&list);
        let mut out = Vec::new();
        index.candidates(
            &Prepared::new(&resident, &mut s),
            100,
            &mut Vec::new(),
            &mut out,
        );
        assert_eq!(out, vec![0, 1, 2]);
        // A block larger than the cap gives nothing.
        index.candidates(
            &Prepared::new(&resident, &mut s),
            0,
            &mut Vec::new(),
            &mut out,
        );
        assert!(out.is_empty());
    }
}
