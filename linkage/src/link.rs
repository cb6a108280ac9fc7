//! The linker: the list is indexed once, the register streams past it in
//! batches, every compared pair is kept as a pattern of levels, and at the
//! end the model is estimated and each list row gets its best candidate.

use crate::blocking::Index;
use crate::compare::{Comparer, Comparison, Field, CODES, FIELDS};
use crate::em::{estimate_m, estimate_u, Patterns};
use crate::model::{probability, tf_for, value_hash, Model, TermFrequencies, Weights};
use crate::record::Prepared;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;

/// How sure a list row's match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Band {
    /// Matched: the row goes where its person lives.
    Accept,
    /// Likely, but a clerk should look.
    Review,
    /// No resident matched.
    Reject,
}

impl Band {
    /// The band as `match_band` shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Accept => "accept",
            Band::Review => "review",
            Band::Reject => "reject",
        }
    }
}

/// Thresholds and effort.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkOptions {
    /// Probability from which a match is accepted.
    pub accept: f64,
    /// Probability from which a match goes to review.
    pub review: f64,
    /// By how many bits the best candidate must beat the runner-up to be
    /// accepted (two residents equally like the row: a clerk decides).
    pub margin_bits: f64,
    /// Keys held by more list rows than this are not used for a pair.
    pub max_block: usize,
    /// Random pairs compared to estimate `u`.
    pub random_pairs: usize,
    /// Rounds of expectation–maximisation at most.
    pub em_iterations: usize,
    /// Seed of the random pairs: the same data gives the same links.
    pub seed: u64,
}

impl Default for LinkOptions {
    fn default() -> Self {
        LinkOptions {
            accept: 0.99,
            review: 0.5,
            margin_bits: 5.0,
            max_block: 1000,
            random_pairs: 1_000_000,
            em_iterations: 100,
            seed: 7,
        }
    }
}

/// What the linker says of one list row.
#[derive(Debug, Clone, PartialEq)]
pub struct RowLink {
    /// The register row (in the order the register was streamed) the row
    /// is matched to; `None` when rejected.
    pub register_row: Option<u64>,
    /// The best candidate's weight in bits and its probability.
    pub weight: Option<f64>,
    pub probability: Option<f64>,
    pub band: Band,
    /// Each field's level and partial weight, for the clerk.
    pub reasons: String,
}

/// Figures of one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkStats {
    pub list_rows: usize,
    pub register_rows: u64,
    /// Pairs compared (blocked candidates).
    pub pairs: u64,
    /// Random pairs compared to estimate `u`.
    pub random_pairs: u64,
    pub em_iterations: usize,
    /// Share of compared pairs EM took for matches.
    pub match_share: f64,
}

/// One compared pair.
struct Candidate {
    list: u32,
    register: u64,
    cmp: Comparison,
    /// `value_hash` of the register row's name (for its frequency).
    name: u64,
}

/// Register rows kept for random pairs.
const RESERVOIR: usize = 2000;

/// Links one list to a register streamed in batches.
pub struct Linker {
    options: LinkOptions,
    list: Vec<Prepared>,
    index: Index,
    candidates: Vec<Candidate>,
    tf: TermFrequencies,
    register_rows: u64,
    reservoir: Vec<Prepared>,
    rng: rand_chacha::ChaCha8Rng,
}

impl Linker {
    /// A linker for `list` (already cleaned).
    pub fn new(list: Vec<Prepared>, options: LinkOptions) -> Linker {
        let index = Index::new(&list);
        let rng = rand_chacha::ChaCha8Rng::seed_from_u64(options.seed);
        Linker {
            options,
            list,
            index,
            candidates: Vec::new(),
            tf: TermFrequencies::default(),
            register_rows: 0,
            reservoir: Vec::new(),
            rng,
        }
    }

    /// Compares the next register rows with the list, on every core.
    /// Returns the positions in `batch` of the rows compared with any list
    /// row: the only ones a match can name (their register row numbers
    /// continue from the previous batch's).
    pub fn add_register(&mut self, batch: &[Prepared]) -> Vec<usize> {
        let first = self.register_rows;
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let chunk = batch.len().div_ceil(threads).max(1);
        let (index, list, max_block) = (&self.index, &self.list, self.options.max_block);
        let found: Vec<(Vec<Candidate>, TermFrequencies)> = std::thread::scope(|s| {
            let parts: Vec<_> = batch
                .chunks(chunk)
                .enumerate()
                .map(|(c, part)| {
                    s.spawn(move || {
                        let mut comparer = Comparer::default();
                        let (mut keys, mut rows) = (Vec::new(), Vec::new());
                        let mut out = Vec::new();
                        let mut tf = TermFrequencies::default();
                        for (i, r) in part.iter().enumerate() {
                            let name = value_hash(&r.name);
                            if !r.name.is_empty() {
                                tf.add_hash(name);
                            }
                            index.candidates(r, max_block, &mut keys, &mut rows);
                            let register = first + (c * chunk + i) as u64;
                            for &l in &rows {
                                let cmp = comparer.compare(&list[l as usize], r);
                                out.push(Candidate {
                                    list: l,
                                    register,
                                    cmp,
                                    name,
                                });
                            }
                        }
                        (out, tf)
                    })
                })
                .collect();
            parts
                .into_iter()
                .map(|h| h.join().expect("comparing does not panic"))
                .collect()
        });
        let mut compared = Vec::new();
        for (c, tf) in found {
            for cand in &c {
                let i = (cand.register - first) as usize;
                if compared.last() != Some(&i) {
                    compared.push(i);
                }
            }
            self.candidates.extend(c);
            self.tf.merge(tf);
        }
        // Reservoir sampling keeps a uniform sample of the register seen.
        for r in batch {
            self.register_rows += 1;
            if self.reservoir.len() < RESERVOIR {
                self.reservoir.push(r.clone());
            } else {
                let j = self.rng.random_range(0..self.register_rows);
                if (j as usize) < RESERVOIR {
                    self.reservoir[j as usize] = r.clone();
                }
            }
        }
        compared
    }

    /// Register rows seen so far.
    pub fn register_rows(&self) -> u64 {
        self.register_rows
    }

    /// Estimates the model and decides every list row.
    pub fn finish(self) -> (Vec<RowLink>, Model, LinkStats) {
        let mut model = Model::initial(self.register_rows as usize);
        // u: random (list row, register row) pairs, on every core.
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let mut random = Patterns::new();
        let mut random_pairs = 0u64;
        if !self.list.is_empty() && !self.reservoir.is_empty() {
            let per_thread = self.options.random_pairs.div_ceil(threads);
            let (list, reservoir, seed) = (&self.list, &self.reservoir, self.options.seed);
            let parts: Vec<Patterns> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        s.spawn(move || {
                            let mut rng =
                                rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ (t as u64 + 1));
                            let mut comparer = Comparer::default();
                            let mut out = Patterns::new();
                            for _ in 0..per_thread {
                                let a = &list[rng.random_range(0..list.len())];
                                let b = &reservoir[rng.random_range(0..reservoir.len())];
                                *out.entry(comparer.compare(a, b)).or_default() += 1;
                            }
                            out
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("comparing does not panic"))
                    .collect()
            });
            for part in parts {
                for (c, n) in part {
                    *random.entry(c).or_default() += n;
                    random_pairs += n;
                }
            }
        }
        estimate_u(&mut model, &random);
        // m: EM over the compared pairs, counted by pattern.
        let mut counts = vec![0u64; CODES];
        for c in &self.candidates {
            counts[c.cmp.code() as usize] += 1;
        }
        let patterns: Patterns = counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(code, n)| (Comparison::from_code(code as u32), *n))
            .collect();
        let em = estimate_m(&mut model, &patterns, self.options.em_iterations);
        // The prior: the matches EM expects among the compared pairs, over
        // all pairs there are.
        let expected = em.match_share * self.candidates.len() as f64;
        let all = self.list.len() as f64 * self.register_rows.max(1) as f64;
        model.lambda = (expected / all).clamp(1e-15, 0.5);
        // Each pair's weight, on every core; then best and runner-up.
        let table = Weights::of(&model);
        let chunk = self.candidates.len().div_ceil(threads).max(1);
        let (candidates, tf) = (&self.candidates, &self.tf);
        let weights: Vec<Option<f64>> = std::thread::scope(|s| {
            let handles: Vec<_> = candidates
                .chunks(chunk)
                .map(|part| {
                    let table = &table;
                    s.spawn(move || {
                        part.iter()
                            .map(|c| table.weight(&c.cmp, tf.frequency_of_hash(c.name)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("scoring does not panic"))
                .collect()
        });
        let mut best: Vec<Option<(f64, usize)>> = vec![None; self.list.len()];
        let mut second: Vec<Option<f64>> = vec![None; self.list.len()];
        let mut conflicts: HashMap<u32, u32> = HashMap::new();
        for (i, (c, w)) in self.candidates.iter().zip(&weights).enumerate() {
            let Some(w) = *w else {
                *conflicts.entry(c.list).or_default() += 1;
                continue;
            };
            let l = c.list as usize;
            match best[l] {
                Some((bw, _)) if bw >= w => {
                    if second[l].is_none_or(|s| w > s) {
                        second[l] = Some(w);
                    }
                }
                prev => {
                    second[l] = prev.map(|(bw, _)| bw).or(second[l]);
                    best[l] = Some((w, i));
                }
            }
        }
        let o = &self.options;
        let (candidates, tf, conflicts) = (&self.candidates, &self.tf, &conflicts);
        let decide = |l: usize| -> RowLink {
            let Some((w, i)) = best[l] else {
                let reasons = match conflicts.get(&(l as u32)) {
                        Some(n) => format!(
                            "no match: a valid identity number that differs from each of {n} candidate(s)"
                        ),
                        None => "no candidate".to_string(),
                    };
                return RowLink {
                    register_row: None,
                    weight: None,
                    probability: None,
                    band: Band::Reject,
                    reasons,
                };
            };
            let c = &candidates[i];
            let p = probability(w);
            let exact_id = c.cmp.levels[Field::Id.index()] == Some(2);
            let clear = second[l].is_none_or(|s| w - s >= o.margin_bits);
            let band = if exact_id {
                // The identity number is the key: only a pair whose
                // other fields argue against it goes to a clerk.
                if p >= o.review {
                    Band::Accept
                } else {
                    Band::Review
                }
            } else if p >= o.accept && clear {
                Band::Accept
            } else if p >= o.review {
                Band::Review
            } else {
                Band::Reject
            };
            RowLink {
                register_row: (band != Band::Reject).then_some(c.register),
                weight: Some(w),
                probability: Some(p),
                band,
                reasons: reasons(&model, &c.cmp, tf.frequency_of_hash(c.name)),
            }
        };
        let rows = self.list.len();
        let chunk = rows.div_ceil(threads).max(1);
        let links: Vec<RowLink> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..rows)
                .step_by(chunk)
                .map(|start| {
                    let decide = &decide;
                    s.spawn(move || {
                        (start..(start + chunk).min(rows))
                            .map(decide)
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("deciding does not panic"))
                .collect()
        });
        let stats = LinkStats {
            list_rows: self.list.len(),
            register_rows: self.register_rows,
            pairs: self.candidates.len() as u64,
            random_pairs,
            em_iterations: em.iterations,
            match_share: em.match_share,
        };
        (links, model, stats)
    }
}

/// `id exact +17.2, name exact +9.8, birth exact +14.1, sex same +1.0,
/// phone missing, address same_village +5.3`.
fn reasons(model: &Model, c: &Comparison, name_tf: Option<f64>) -> String {
    let mut out = String::new();
    for (f, level) in FIELDS.iter().zip(c.levels) {
        if !out.is_empty() {
            out.push_str(", ");
        }
        match level {
            Some(l) => {
                let w = model.partial(*f, l, tf_for(*f, l, name_tf));
                out.push_str(&format!("{} {} {w:+.1}", f.name(), f.levels()[l as usize]));
            }
            None => out.push_str(&format!("{} missing", f.name())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{RawPerson, Scratch};
    use zhenjie_udfs::identity::id_check_char;

    /// A valid identity number for a sequence.
    fn id(area: &str, birth: &str, seq: u32) -> String {
        let first: String = format!("{area}{birth}{seq:03}");
        let c = id_check_char(first.as_bytes()).unwrap() as char;
        format!("{first}{c}")
    }

    #[test]
    fn links_dirty_rows_and_keeps_the_visitor_off_the_resident() {
        let day = zhenjie_udfs::calendar::days_from_civil;
        let given = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋"];
        let surnames = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
        let mut register = Vec::new();
        let mut s = Scratch::default();
        for i in 0..3000u32 {
            let y = 1950 + (i % 50) as i32;
            let (m, d) = (1 + i % 12, 1 + (i / 12) % 28);
            let id = id("370602", &format!("{y}{m:02}{d:02}"), i % 1000);
            let name = format!(
                "{}{}",
                surnames[(i % 10) as usize],
                given[((i / 10) % 10) as usize]
            );
            let phone = format!("138{:08}", i);
            register.push((id, name, day(y, m, d), phone));
        }
        let prep = |r: RawPerson<'_>, s: &mut Scratch| Prepared::new(&r, s);
        let reg: Vec<Prepared> = register
            .iter()
            .map(|(id, name, birth, phone)| {
                prep(
                    RawPerson {
                        id_number: Some(id),
                        name: Some(name),
                        birth_date: Some(*birth),
                        phone: Some(phone),
                        ..Default::default()
                    },
                    &mut s,
                )
            })
            .collect();
        let (id7, name7, birth7, phone7) = &register[7];
        let lower = id7.to_lowercase();
        let visitor = id("370102", "19800101", 5);
        let list_raw = [
            // Clean.
            RawPerson {
                id_number: Some(id7),
                name: Some(name7),
                ..Default::default()
            },
            // No number; name, birth date and phone.
            RawPerson {
                id_number: None,
                name: Some(name7),
                birth_date: Some(*birth7),
                phone: Some(phone7),
                ..Default::default()
            },
            // A visitor with the resident's name, birth date and phone.
            RawPerson {
                id_number: Some(&visitor),
                name: Some(name7),
                birth_date: Some(*birth7),
                phone: Some(phone7),
                ..Default::default()
            },
            // Lower-case x or not, the number still joins.
            RawPerson {
                id_number: Some(&lower),
                name: Some(name7),
                ..Default::default()
            },
        ];
        let list: Vec<Prepared> = list_raw.iter().map(|r| prep(*r, &mut s)).collect();
        let mut linker = Linker::new(
            list,
            LinkOptions {
                random_pairs: 20_000,
                ..Default::default()
            },
        );
        for batch in reg.chunks(700) {
            linker.add_register(batch);
        }
        let (links, _, stats) = linker.finish();
        assert_eq!(stats.register_rows, 3000);
        assert_eq!(links[0].band, Band::Accept, "{links:?}");
        assert_eq!(links[0].register_row, Some(7));
        assert_eq!(links[1].band, Band::Accept, "{:?}", links[1]);
        assert_eq!(links[1].register_row, Some(7));
        assert_eq!(links[2].band, Band::Reject, "{:?}", links[2]);
        assert_eq!(links[2].register_row, None);
        assert!(links[2].reasons.contains("differs"), "{}", links[2].reasons);
        assert_eq!(links[3].register_row, Some(7));
        assert!(
            links[1].reasons.contains("phone exact"),
            "{}",
            links[1].reasons
        );
    }
}
