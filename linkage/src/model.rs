//! The Fellegi–Sunter model: for each field and level, how often true
//! matches (`m`) and random pairs (`u`) show it; a pair's weight is the sum
//! of `log2(m/u)` over its fields plus the prior odds, in bits.

use crate::compare::{Comparison, Field, FIELDS};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A hasher for keys that are hashes already (blocking keys, value hashes):
/// it passes them through instead of hashing them again.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map keyed by 64-bit hashes.
pub type HashKeyed<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// Smallest probability a level is given, so no single level is ever
/// infinitely strong evidence (only an identity conflict vetoes).
pub const MIN_PROBABILITY: f64 = 1e-6;

/// `m` and `u` of each level of one field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldParams {
    pub m: Vec<f64>,
    pub u: Vec<f64>,
}

/// The whole model.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Indexed like [`FIELDS`].
    pub fields: Vec<FieldParams>,
    /// Probability that a random (list row, register row) pair is a match.
    pub lambda: f64,
}

impl Model {
    /// Starting values before estimation: what registers usually show. EM
    /// moves `m` from here; `u` is replaced by random-pair counts.
    pub fn initial(register_rows: usize) -> Model {
        let p = |m: &[f64], u: &[f64]| FieldParams {
            m: m.to_vec(),
            u: u.to_vec(),
        };
        let fields = FIELDS
            .iter()
            .map(|f| match f {
                Field::Id => p(&[0.02, 0.03, 0.95], &[0.9999, 1e-4, 1e-7]),
                Field::Name => p(
                    &[0.01, 0.01, 0.02, 0.03, 0.93],
                    &[0.8, 0.15, 0.03, 0.01, 0.001],
                ),
                Field::Birth => p(&[0.01, 0.02, 0.02, 0.95], &[0.98, 0.02, 1e-4, 5e-5]),
                Field::Sex => p(&[0.02, 0.98], &[0.5, 0.5]),
                Field::Phone => p(&[0.1, 0.9], &[0.9999, 1e-4]),
                Field::Address => p(&[0.1, 0.2, 0.7], &[0.99, 0.01, 1e-4]),
            })
            .collect();
        Model {
            fields,
            lambda: 1.0 / register_rows.max(2) as f64,
        }
    }

    /// The weight, in bits, of one field's level (`u_tf`: the frequency of
    /// this very value, for a term-frequency adjusted exact level).
    pub fn partial(&self, field: Field, level: u8, u_tf: Option<f64>) -> f64 {
        let p = &self.fields[field.index()];
        let l = level as usize;
        let m = p.m[l].max(MIN_PROBABILITY);
        let u = u_tf
            .unwrap_or(p.u[l])
            .max(MIN_PROBABILITY * MIN_PROBABILITY);
        (m / u).log2()
    }

    /// Prior odds of a match, in bits.
    pub fn prior(&self) -> f64 {
        let l = self.lambda.clamp(1e-12, 1.0 - 1e-12);
        (l / (1.0 - l)).log2()
    }

    /// A pair's total weight in bits; `name_tf` is the register frequency of
    /// the name when the names agree exactly. `None` for an identity conflict.
    pub fn weight(&self, c: &Comparison, name_tf: Option<f64>) -> Option<f64> {
        if c.conflict {
            return None;
        }
        let mut w = self.prior();
        for (f, level) in FIELDS.iter().zip(c.levels) {
            if let Some(level) = level {
                w += self.partial(*f, level, tf_for(*f, level, name_tf));
            }
        }
        Some(w)
    }
}

/// Every level's weight worked out once, for scoring millions of pairs.
#[derive(Debug, Clone)]
pub struct Weights {
    prior: f64,
    /// `[field][level]`, in bits.
    levels: Vec<Vec<f64>>,
    /// `log2(m)` of an exact name, from which a term-frequency weight is
    /// `log2(m) - log2(u_tf)`.
    name_exact_log2_m: f64,
}

impl Weights {
    /// The table of `model`.
    pub fn of(model: &Model) -> Weights {
        let exact = Field::Name.levels().len() - 1;
        Weights {
            prior: model.prior(),
            levels: FIELDS
                .iter()
                .map(|f| {
                    (0..f.levels().len())
                        .map(|l| model.partial(*f, l as u8, None))
                        .collect()
                })
                .collect(),
            name_exact_log2_m: model.fields[Field::Name.index()].m[exact]
                .max(MIN_PROBABILITY)
                .log2(),
        }
    }

    /// [`Model::weight`], from the table.
    pub fn weight(&self, c: &Comparison, name_tf: Option<f64>) -> Option<f64> {
        if c.conflict {
            return None;
        }
        let exact = (Field::Name.levels().len() - 1) as u8;
        let mut w = self.prior;
        for (f, level) in c.levels.iter().enumerate() {
            if let Some(l) = *level {
                w += match name_tf {
                    Some(u) if f == Field::Name.index() && l == exact => {
                        self.name_exact_log2_m - u.max(MIN_PROBABILITY * MIN_PROBABILITY).log2()
                    }
                    _ => self.levels[f][l as usize],
                };
            }
        }
        Some(w)
    }
}

/// The term frequency applies to an exact name only.
pub(crate) fn tf_for(field: Field, level: u8, name_tf: Option<f64>) -> Option<f64> {
    (field == Field::Name && level as usize == Field::Name.levels().len() - 1)
        .then_some(name_tf)
        .flatten()
}

/// A weight in bits as a probability.
pub fn probability(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

/// How often each name occurs in the register: an exact agreement on a
/// common name is weaker evidence than on a rare one. Values are kept as
/// 64-bit hashes, so a 7-million register costs tens of megabytes.
#[derive(Debug, Default, Clone)]
pub struct TermFrequencies {
    counts: HashKeyed<u32>,
    total: u64,
}

/// The key a value is counted under.
pub fn value_hash(value: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

impl TermFrequencies {
    /// Counts one register value.
    pub fn add(&mut self, value: &str) {
        if !value.is_empty() {
            self.add_hash(value_hash(value));
        }
    }

    /// Counts one register value by its [`value_hash`].
    pub fn add_hash(&mut self, hash: u64) {
        self.total += 1;
        *self.counts.entry(hash).or_default() += 1;
    }

    /// Adds another count (of another part of the register).
    pub fn merge(&mut self, other: TermFrequencies) {
        self.total += other.total;
        for (k, n) in other.counts {
            *self.counts.entry(k).or_default() += n;
        }
    }

    /// The share of register rows with this value: the chance that a random
    /// register row agrees with it exactly. `None` before any value.
    pub fn frequency(&self, value: &str) -> Option<f64> {
        self.frequency_of_hash(value_hash(value))
    }

    /// [`TermFrequencies::frequency`] by [`value_hash`].
    pub fn frequency_of_hash(&self, hash: u64) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let n = self.counts.get(&hash).copied().unwrap_or(1).max(1);
        Some(n as f64 / self.total as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_names_weigh_less_than_rare_ones() {
        let mut tf = TermFrequencies::default();
        for _ in 0..500 {
            tf.add("张伟");
        }
        tf.add("欧阳娜娜");
        for i in 0..9_499 {
            tf.add(&format!("王{i}"));
        }
        let model = Model::initial(10_000);
        let exact = Field::Name.levels().len() as u8 - 1;
        let common = model.partial(Field::Name, exact, tf.frequency("张伟"));
        let rare = model.partial(Field::Name, exact, tf.frequency("欧阳娜娜"));
        // 500 in 10,000 against 1 in 10,000: log2(500) ≈ 9 bits apart.
        assert!(
            (rare - common - 500f64.log2()).abs() < 1e-9,
            "{rare} {common}"
        );
        assert!(common > 0.0);
    }

    #[test]
    fn the_table_weighs_as_the_model_does() {
        let model = Model::initial(5000);
        let table = Weights::of(&model);
        let c = Comparison {
            levels: [Some(1), Some(4), None, Some(1), Some(0), Some(2)],
            conflict: false,
        };
        for tf in [None, Some(0.01)] {
            let (a, b) = (model.weight(&c, tf).unwrap(), table.weight(&c, tf).unwrap());
            assert!((a - b).abs() < 1e-9, "{a} {b}");
        }
    }

    #[test]
    fn a_conflict_has_no_weight_and_missing_fields_none() {
        let model = Model::initial(1000);
        let none = Comparison {
            levels: [None; 6],
            conflict: false,
        };
        assert_eq!(model.weight(&none, None), Some(model.prior()));
        let conflict = Comparison {
            levels: [Some(2); 6],
            conflict: true,
        };
        assert_eq!(model.weight(&conflict, None), None);
        assert!((probability(0.0) - 0.5).abs() < 1e-12);
        assert!(probability(10.0) > 0.999);
    }
}
