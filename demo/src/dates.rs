//! Civil-date arithmetic on Arrow's `Date32` (days since 1970-01-01), without a
//! date crate: the generator needs only construction, decomposition and ages.

/// The fixed "today" of the demo city, so output never depends on the clock.
pub(crate) const TODAY: (i32, u32, u32) = (2024, 6, 30);

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as u32;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe as i32 - 719_468
}

/// The date of a day number.
pub(crate) fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = (z - era * 146_097) as u32;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe as i32 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Day number of the demo's "today".
pub(crate) fn today() -> i32 {
    days_from_civil(TODAY.0, TODAY.1, TODAY.2)
}

/// Completed years between `birth` and `on`.
pub(crate) fn age_on(birth: i32, on: i32) -> i32 {
    let (y1, m1, d1) = civil_from_days(birth);
    let (y2, m2, d2) = civil_from_days(on);
    y2 - y1 - i32::from((m2, d2) < (m1, d1))
}

/// Month index (year × 12 + month − 1) of a day.
pub(crate) fn month_index(day: i32) -> i32 {
    let (y, m, _) = civil_from_days(day);
    y * 12 + m as i32 - 1
}

/// First day of a month index.
pub(crate) fn month_start(index: i32) -> i32 {
    days_from_civil(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1)
}

/// The day `years` calendar years after `day` (29 February becomes 28 February).
pub(crate) fn add_years(day: i32, years: i32) -> i32 {
    let (y, m, d) = civil_from_days(day);
    let d = if m == 2 && d == 29 { 28 } else { d };
    days_from_civil(y + years, m, d)
}

/// `YYYYMMDD` of a day, as written inside an identity number.
pub(crate) fn yyyymmdd(day: i32) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}{m:02}{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1949, 12, 31), -7_306);
        for z in -40_000..25_000 {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(yyyymmdd(days_from_civil(1949, 12, 31)), "19491231");
    }

    #[test]
    fn ages_and_months() {
        let b = days_from_civil(1980, 7, 1);
        assert_eq!(age_on(b, days_from_civil(2024, 6, 30)), 43);
        assert_eq!(age_on(b, days_from_civil(2024, 7, 1)), 44);
        let mi = month_index(days_from_civil(2024, 1, 15));
        assert_eq!(month_start(mi), days_from_civil(2024, 1, 1));
        assert_eq!(month_start(mi - 1), days_from_civil(2023, 12, 1));
        assert_eq!(
            add_years(days_from_civil(2000, 2, 29), 1),
            days_from_civil(2001, 2, 28)
        );
    }
}
