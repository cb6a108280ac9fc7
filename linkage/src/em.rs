//! Estimating the model from the data: `u` from random pairs, `m` by
//! expectation–maximisation over the compared (blocked) pairs.
//!
//! Pairs are first counted by their pattern of levels: a million compared
//! pairs show a few hundred patterns, so each EM round costs nothing.

use crate::compare::{Comparison, FIELDS};
use crate::model::Model;
use std::collections::HashMap;

/// Comparisons counted by pattern.
pub type Patterns = HashMap<Comparison, u64>;

/// Sets each level's `u` to its share among random pairs. A level never
/// seen gets half a pair's share, so rare agreements stay finite.
pub fn estimate_u(model: &mut Model, random_pairs: &Patterns) {
    for (f, field) in FIELDS.iter().enumerate() {
        let levels = field.levels().len();
        let mut counts = vec![0f64; levels];
        for (c, n) in random_pairs {
            if let Some(l) = c.levels[f] {
                counts[l as usize] += *n as f64;
            }
        }
        let total: f64 = counts.iter().sum();
        if total == 0.0 {
            continue;
        }
        let smoothed = total + 0.5 * levels as f64;
        model.fields[f].u = counts.iter().map(|c| (c + 0.5) / smoothed).collect();
    }
}

/// What EM found besides `m`: the share of matches among the compared pairs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmResult {
    pub match_share: f64,
    pub iterations: usize,
}

/// Re-estimates every field's `m` from compared pairs, `u` held fixed.
/// Identity conflicts are never matches and do not vote.
pub fn estimate_m(model: &mut Model, pairs: &Patterns, max_iterations: usize) -> EmResult {
    let pairs: Vec<(&Comparison, f64)> = pairs
        .iter()
        .filter(|(c, _)| !c.conflict)
        .map(|(c, n)| (c, *n as f64))
        .collect();
    let mut share = 0.1f64;
    let mut iterations = 0;
    while iterations < max_iterations {
        iterations += 1;
        // E: each pattern's probability of being a match.
        let prior = (share / (1.0 - share)).log2();
        let posts: Vec<f64> = pairs
            .iter()
            .map(|(c, _)| {
                let mut w = prior;
                for (f, field) in FIELDS.iter().enumerate() {
                    if let Some(l) = c.levels[f] {
                        w += model.partial(*field, l, None);
                    }
                }
                crate::model::probability(w)
            })
            .collect();
        // M: m from the expected matches, and the share of matches.
        let mut change = 0f64;
        for (f, field) in FIELDS.iter().enumerate() {
            let mut num = vec![0f64; field.levels().len()];
            for ((c, n), p) in pairs.iter().zip(&posts) {
                if let Some(l) = c.levels[f] {
                    num[l as usize] += n * p;
                }
            }
            let den: f64 = num.iter().sum();
            if den <= 0.0 {
                continue;
            }
            for (m, x) in model.fields[f].m.iter_mut().zip(&num) {
                let new = x / den;
                change = change.max((new - *m).abs());
                *m = new;
            }
        }
        let total: f64 = pairs.iter().map(|(_, n)| n).sum();
        let matched: f64 = pairs.iter().zip(&posts).map(|((_, n), p)| n * p).sum();
        let new_share = if total > 0.0 {
            (matched / total).clamp(1e-9, 1.0 - 1e-9)
        } else {
            share
        };
        change = change.max((new_share - share).abs());
        share = new_share;
        if change < 1e-7 {
            break;
        }
    }
    EmResult {
        match_share: share,
        iterations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn draw(rng: &mut impl Rng, probs: &[f64]) -> u8 {
        let mut x: f64 = rng.random();
        for (i, p) in probs.iter().enumerate() {
            if x < *p {
                return i as u8;
            }
            x -= p;
        }
        (probs.len() - 1) as u8
    }

    /// Pairs drawn from a known model: EM, given `u` and a poor start for
    /// `m`, finds `m` and the share of matches again.
    #[test]
    fn em_recovers_known_m() {
        let truth = {
            let mut t = Model::initial(1000);
            t.fields[1].m = vec![0.05, 0.05, 0.1, 0.1, 0.7];
            t.fields[2].m = vec![0.02, 0.08, 0.1, 0.8];
            t.fields[4].m = vec![0.3, 0.7];
            t.fields[4].u = vec![0.99, 0.01];
            t.fields[2].u = vec![0.9, 0.09, 0.005, 0.005];
            t.fields[1].u = vec![0.7, 0.2, 0.05, 0.03, 0.02];
            t
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut pairs = Patterns::new();
        let share = 0.3;
        for _ in 0..200_000 {
            let is_match = rng.random_bool(share);
            let mut levels = [None; 6];
            for (f, p) in truth.fields.iter().enumerate() {
                let probs = if is_match { &p.m } else { &p.u };
                levels[f] = Some(draw(&mut rng, probs));
            }
            *pairs
                .entry(Comparison {
                    levels,
                    conflict: false,
                })
                .or_default() += 1;
        }
        let mut model = truth.clone();
        for f in &mut model.fields {
            let n = f.m.len() as f64;
            f.m = vec![1.0 / n; f.m.len()];
            // A start that leans the right way, as Model::initial does.
            *f.m.last_mut().unwrap() += 0.2;
            let s: f64 = f.m.iter().sum();
            f.m.iter_mut().for_each(|m| *m /= s);
        }
        let r = estimate_m(&mut model, &pairs, 200);
        assert!((r.match_share - share).abs() < 0.01, "{r:?}");
        for (f, (got, want)) in model.fields.iter().zip(&truth.fields).enumerate() {
            for (g, w) in got.m.iter().zip(&want.m) {
                assert!(
                    (g - w).abs() < 0.02,
                    "field {f}: {:?} vs {:?}",
                    got.m,
                    want.m
                );
            }
        }
    }

    #[test]
    fn u_is_the_share_among_random_pairs() {
        let mut model = Model::initial(1000);
        let mut pairs = Patterns::new();
        let c = |l: u8| Comparison {
            levels: [None, None, None, Some(l), None, None],
            conflict: false,
        };
        pairs.insert(c(0), 499_999);
        pairs.insert(c(1), 500_001);
        estimate_u(&mut model, &pairs);
        let u = &model.fields[3].u;
        assert!(
            (u[0] - 0.5).abs() < 1e-5 && (u[1] - 0.5).abs() < 1e-5,
            "{u:?}"
        );
        // Fields no random pair showed keep their values.
        assert_eq!(model.fields[0].u, Model::initial(1000).fields[0].u);
    }
}
