//! Civil-date arithmetic on Arrow's `Date32` (days since 1970-01-01), without a
//! date crate: the generator needs only construction, decomposition and ages.

/// The fixed "today" of the demo city, so output never depends on the clock.
pub(crate) const TODAY: (i32, u32, u32) = (2024, 6, 30);

pub(crate) use zhenjie_udfs::calendar::{civil_from_days, days_from_civil};

/// Day number of the demo's "today".
pub(crate) fn today() -> i32 {
    days_from_civil(TODAY.0, TODAY.1, TODAY.2)
}

/// The demo's "today" as the catalog's `reference_date`.
pub(crate) fn reference_date() -> String {
    format!("{:04}-{:02}-{:02}", TODAY.0, TODAY.1, TODAY.2)
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
    fn identity_number_dates() {
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
