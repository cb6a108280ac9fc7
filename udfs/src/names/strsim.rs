//! General string similarity over Unicode characters: Jaro-Winkler and
//! normalised Levenshtein.
//!
//! Both take a [`Scratch`] that the kernel reuses across rows, so comparing
//! a column of pairs does not allocate per row; ASCII inputs are compared as
//! bytes without decoding.

/// Reusable buffers for the similarity functions.
#[derive(Default)]
pub struct Scratch {
    a: Vec<char>,
    b: Vec<char>,
    flags_a: Vec<bool>,
    flags_b: Vec<bool>,
    row: Vec<usize>,
}

fn load(dst: &mut Vec<char>, s: &str) {
    dst.clear();
    dst.extend(s.chars());
}

/// Jaro similarity of two character sequences.
fn jaro_chars<T: PartialEq + Copy>(
    a: &[T],
    b: &[T],
    fa: &mut Vec<bool>,
    fb: &mut Vec<bool>,
) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    fa.clear();
    fa.resize(a.len(), false);
    fb.clear();
    fb.resize(b.len(), false);
    let mut matches = 0usize;
    for (i, ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !fb[j] && b[j] == *ca {
                fa[i] = true;
                fb[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut j = 0usize;
    for (i, ca) in a.iter().enumerate() {
        if !fa[i] {
            continue;
        }
        while !fb[j] {
            j += 1;
        }
        if *ca != b[j] {
            transpositions += 1;
        }
        j += 1;
    }
    let m = matches as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - (transpositions / 2) as f64) / m) / 3.0
}

fn winkler<T: PartialEq>(jaro: f64, a: &[T], b: &[T]) -> f64 {
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count();
    jaro + prefix as f64 * 0.1 * (1.0 - jaro)
}

/// Jaro-Winkler similarity (prefix scale 0.1, prefix up to 4 characters),
/// in [0, 1]; 1 for equal strings (including two empty strings).
pub fn jaro_winkler_with(scratch: &mut Scratch, a: &str, b: &str) -> f64 {
    if a.is_ascii() && b.is_ascii() {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        let j = jaro_chars(a, b, &mut scratch.flags_a, &mut scratch.flags_b);
        return winkler(j, a, b);
    }
    load(&mut scratch.a, a);
    load(&mut scratch.b, b);
    let j = jaro_chars(
        &scratch.a,
        &scratch.b,
        &mut scratch.flags_a,
        &mut scratch.flags_b,
    );
    winkler(j, &scratch.a, &scratch.b)
}

/// Jaro-Winkler similarity with fresh buffers (see [`jaro_winkler_with`]).
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    jaro_winkler_with(&mut Scratch::default(), a, b)
}

fn levenshtein_slices<T: PartialEq>(a: &[T], b: &[T], row: &mut Vec<usize>) -> usize {
    if a.is_empty() {
        return b.len();
    }
    row.clear();
    row.extend(0..=b.len());
    for (i, ca) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let up = row[j + 1];
            let cost = usize::from(ca != cb);
            row[j + 1] = (diag + cost).min(up + 1).min(row[j] + 1);
            diag = up;
        }
    }
    row[b.len()]
}

/// Levenshtein distance in characters (not bytes).
pub fn levenshtein_with(scratch: &mut Scratch, a: &str, b: &str) -> usize {
    if a.is_ascii() && b.is_ascii() {
        return levenshtein_slices(a.as_bytes(), b.as_bytes(), &mut scratch.row);
    }
    load(&mut scratch.a, a);
    load(&mut scratch.b, b);
    levenshtein_slices(&scratch.a, &scratch.b, &mut scratch.row)
}

/// Levenshtein similarity: 1 − distance / length of the longer string, in
/// characters; 1 for two empty strings.
pub fn levenshtein_similarity_with(scratch: &mut Scratch, a: &str, b: &str) -> f64 {
    let d = levenshtein_with(scratch, a, b);
    let n = if a.is_ascii() && b.is_ascii() {
        a.len().max(b.len())
    } else {
        scratch.a.len().max(scratch.b.len())
    };
    if n == 0 {
        1.0
    } else {
        1.0 - d as f64 / n as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-3
    }

    #[test]
    fn textbook_values() {
        assert!(close(jaro_winkler("MARTHA", "MARHTA"), 0.961));
        assert!(close(jaro_winkler("DWAYNE", "DUANE"), 0.84));
        assert!(close(jaro_winkler("DIXON", "DICKSONX"), 0.813));
        assert_eq!(jaro_winkler("", ""), 1.0);
        assert_eq!(jaro_winkler("a", ""), 0.0);
        // The pitfall the name functions exist for: two-character names.
        assert!(close(jaro_winkler("张伟", "章伟"), 0.667));
        let mut s = Scratch::default();
        assert_eq!(levenshtein_with(&mut s, "kitten", "sitting"), 3);
        assert_eq!(levenshtein_with(&mut s, "张伟", "张小伟"), 1);
        assert!(close(
            levenshtein_similarity_with(&mut s, "张伟", "张小伟"),
            0.667
        ));
        assert_eq!(levenshtein_similarity_with(&mut s, "", ""), 1.0);
    }
}
