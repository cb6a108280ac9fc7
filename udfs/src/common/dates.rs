//! Calendar arithmetic on Arrow's `Date32` (days since 1970-01-01), without
//! a date library: proleptic Gregorian, after Howard Hinnant's algorithms.

/// True if `y-m-d` is a real calendar date.
#[inline]
pub fn is_valid_date(y: i32, m: u32, d: u32) -> bool {
    (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)
}

#[inline]
pub(crate) fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a (valid) date.
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day count since 1970-01-01.
///
/// Neri and Schneider's Euclidean affine form ("Euclidean affine functions
/// and their application to calendar algorithms", 2022): multiplications and
/// shifts only, a third of the time of the classic form, which covers the
/// days outside its 32-bit range (some 35,000 years before 1970 and 2.9
/// million after).
pub fn civil_from_days(z: i32) -> (i32, u32, u32) {
    // Shifted by 82 cycles of 400 years so that the day count is unsigned.
    const CYCLES: u32 = 82;
    const SHIFT: i64 = 719_468 + 146_097 * CYCLES as i64;
    let n = z as i64 + SHIFT;
    if !(0..1 << 30).contains(&n) {
        return civil_from_days_wide(z);
    }
    let n1 = 4 * n as u32 + 3;
    let century = n1 / 146_097;
    let n2 = (n1 % 146_097) | 3;
    let p2 = 2_939_745u64 * n2 as u64;
    let year_of_century = (p2 >> 32) as u32;
    let day_of_year = (p2 as u32) / 2_939_745 / 4;
    let n3 = 2141 * day_of_year + 197_913;
    let month = n3 >> 16;
    let day = (n3 & 0xffff) / 2141 + 1;
    // Years counted from March: January and February end the year.
    let january_or_february = day_of_year >= 306;
    let year =
        (100 * century + year_of_century) as i32 - 400 * CYCLES as i32 + january_or_february as i32;
    let month = if january_or_february {
        month - 12
    } else {
        month
    };
    (year, month, day)
}

/// [`civil_from_days`] for any day count (Hinnant's form).
fn civil_from_days_wide(z: i32) -> (i32, u32, u32) {
    let z = z as i64 + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = if m <= 2 { y + 1 } else { y };
    (y as i32, m, d)
}

/// Whole years from a birth date to a date; `None` if `at` is before birth.
pub(crate) fn age_at(birth: (i32, u32, u32), at: (i32, u32, u32)) -> Option<i32> {
    let mut age = at.0 - birth.0;
    if (at.1, at.2) < (birth.1, birth.2) {
        age -= 1;
    }
    (age >= 0).then_some(age)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1949, 12, 31), -7_306);
        for z in (-80_000..80_000).step_by(37) {
            let (y, m, d) = civil_from_days(z);
            assert!(is_valid_date(y, m, d));
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    /// The fast form gives the classic form's dates: every day of ±4,000
    /// years, and a sample over every Date32, the ends of its range included.
    #[test]
    fn both_forms_agree() {
        for z in -1_500_000..1_500_000 {
            assert_eq!(civil_from_days(z), civil_from_days_wide(z), "{z}");
        }
        let low = -12_699_422; // the fast form's first day
        let high = (1 << 30) - 12_699_422 - 1; // and its last
        let edges = [i32::MIN, low - 1, low, high, high + 1, i32::MAX];
        for z in (i32::MIN..i32::MAX).step_by(65_537).chain(edges) {
            assert_eq!(civil_from_days(z), civil_from_days_wide(z), "{z}");
        }
    }

    #[test]
    fn calendar_rules() {
        assert!(is_valid_date(2000, 2, 29));
        assert!(!is_valid_date(1900, 2, 29));
        assert!(!is_valid_date(2023, 4, 31));
        assert!(!is_valid_date(2023, 13, 1));
        assert!(!is_valid_date(2023, 1, 0));
        assert_eq!(age_at((1949, 12, 31), (2024, 12, 30)), Some(74));
        assert_eq!(age_at((1949, 12, 31), (2024, 12, 31)), Some(75));
        assert_eq!(age_at((1949, 12, 31), (1949, 12, 30)), None);
    }
}
