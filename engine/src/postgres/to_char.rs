//! `to_char(date | timestamp, pattern)` with PostgreSQL's template patterns
//! (`YYYY-MM-DD`, `FMMonth DD, YYYY`, `HH24:MI:SS`, `"年"`, …).
//!
//! DataFusion's `to_char` reads chrono's `%Y-%m-%d` patterns and copies a
//! PostgreSQL pattern through as text — a report showing `YYYY-MM-DD` in
//! every row. This one replaces it in every session. A pattern element it
//! does not implement (time zone names, Roman numerals), or a number as the
//! first argument, is an error (0A000), never a different answer.

use crate::error::sqlstate;
use crate::EngineError;
use chrono::{Datelike, NaiveDateTime, Timelike};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::sync::Arc;

/// The `to_char` every session gets.
pub(crate) fn to_char_udf() -> ScalarUDF {
    ScalarUDF::from(ToChar {
        signature: Signature::any(2, Volatility::Stable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ToChar {
    signature: Signature,
}

fn unsupported(what: String) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::External(Box::new(EngineError::new(
        sqlstate::FEATURE_NOT_SUPPORTED,
        what,
    )))
}

impl ScalarUDFImpl for ToChar {
    fn name(&self) -> &str {
        "to_char"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match &args[0] {
            DataType::Date32 | DataType::Date64 | DataType::Timestamp(..) | DataType::Null => {
                Ok(DataType::Utf8)
            }
            other => Err(unsupported(format!(
                "to_char of {other} is not supported: zhenjie formats dates and timestamps \
                 with PostgreSQL's patterns (cast a number to text, or round it, instead)"
            ))),
        }
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let values = args.args[0].to_array(n)?;
        let patterns =
            datafusion::arrow::compute::cast(&args.args[1].to_array(n)?, &DataType::Utf8)?;
        let patterns = patterns.as_string::<i32>();
        // Wall-clock times: a timestamptz in its own zone.
        let zone: Option<datafusion::arrow::array::timezone::Tz> = match values.data_type() {
            DataType::Timestamp(_, Some(tz)) => Some(tz.parse()?),
            _ => None,
        };
        let stamps: Vec<Option<NaiveDateTime>> = if values.data_type() == &DataType::Null {
            vec![None; n]
        } else {
            let micros = datafusion::arrow::compute::cast(
                &values,
                &DataType::Timestamp(TimeUnit::Microsecond, None),
            )?;
            micros
                .as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>()
                .iter()
                .map(|v| {
                    let utc = v.and_then(chrono::DateTime::from_timestamp_micros)?;
                    Some(match &zone {
                        Some(tz) => utc.with_timezone(tz).naive_local(),
                        None => utc.naive_utc(),
                    })
                })
                .collect()
        };
        let mut out = StringBuilder::with_capacity(n, n * 16);
        for (i, stamp) in stamps.iter().enumerate() {
            match (stamp, patterns.is_valid(i)) {
                (Some(t), true) => {
                    out.append_value(format(t, patterns.value(i)).map_err(unsupported)?)
                }
                _ => out.append_null(),
            }
        }
        let array: ArrayRef = Arc::new(out.finish());
        Ok(ColumnarValue::Array(array))
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// A name in the case the pattern asked for (`MONTH`, `Month`, `month`).
fn cased(name: &str, token: &str) -> String {
    if token.chars().all(|c| !c.is_ascii_lowercase()) {
        name.to_uppercase()
    } else if token.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
        name.to_string()
    } else {
        name.to_lowercase()
    }
}

fn ordinal(n: i64, upper: bool) -> &'static str {
    let s = match (n % 100, n % 10) {
        (11..=13, _) => "th",
        (_, 1) => "st",
        (_, 2) => "nd",
        (_, 3) => "rd",
        _ => "th",
    };
    match (upper, s) {
        (false, s) => s,
        (true, "st") => "ST",
        (true, "nd") => "ND",
        (true, "rd") => "RD",
        _ => "TH",
    }
}

/// Formats `t` with a PostgreSQL template pattern.
pub(crate) fn format(t: &NaiveDateTime, pattern: &str) -> std::result::Result<String, String> {
    // Longest first; names are matched in their case variants below.
    const TOKENS: &[&str] = &[
        "HH24", "HH12", "IYYY", "YYYY", "MONTH", "Month", "month", "A.M.", "P.M.", "a.m.", "p.m.",
        "YYY", "DDD", "MON", "Mon", "mon", "DAY", "Day", "day", "IW", "YY", "MM", "DD", "HH", "MI",
        "SS", "MS", "US", "AM", "PM", "am", "pm", "DY", "Dy", "dy", "WW", "CC", "ID", "Y", "D",
        "Q", "W", "J",
    ];
    let mut out = String::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let rest: String = chars[i..].iter().collect();
        if let Some(quoted) = rest.strip_prefix('"') {
            let literal = quoted.split('"').next().unwrap_or_default();
            out.push_str(literal);
            // The quotes and what they hold (an unclosed quote runs to the end).
            i += 1 + literal.chars().count() + usize::from(quoted.len() > literal.len());
            continue;
        }
        if rest.starts_with('\\') && chars.len() > i + 1 {
            out.push(chars[i + 1]);
            i += 2;
            continue;
        }
        let (fill, body) = match rest.strip_prefix("FM").or_else(|| rest.strip_prefix("fm")) {
            Some(b) => (true, b),
            None => (false, rest.as_str()),
        };
        let upper_body = body.to_ascii_uppercase();
        let token = TOKENS.iter().find(|tok| {
            let is_name = matches!(
                tok.to_ascii_uppercase().as_str(),
                "MONTH" | "MON" | "DAY" | "DY" | "AM" | "PM" | "A.M." | "P.M."
            );
            if is_name {
                body.starts_with(**tok)
            } else {
                upper_body.starts_with(&tok.to_ascii_uppercase())
                    && **tok == tok.to_ascii_uppercase()
            }
        });
        let Some(token) = token else {
            if ["TZ", "TZH", "TZM", "OF", "RM", "SSSS", "FF"]
                .iter()
                .any(|u| upper_body.starts_with(u))
            {
                return Err(format!(
                    "to_char pattern element in \"{pattern}\" is not supported by zhenjie"
                ));
            }
            out.push(chars[i]);
            i += 1;
            continue;
        };
        let num = |v: i64, width: usize| {
            if fill {
                v.to_string()
            } else {
                format!("{v:0width$}")
            }
        };
        let pad = |s: String| if fill { s } else { format!("{s:<9}") };
        let hour12 = match t.hour() % 12 {
            0 => 12,
            h => h,
        } as i64;
        let year = t.year() as i64;
        let (numeric, text): (Option<i64>, String) = match token.to_ascii_uppercase().as_str() {
            "YYYY" => (Some(year), num(year, 4)),
            "YYY" => (Some(year % 1000), num(year % 1000, 3)),
            "YY" => (Some(year % 100), num(year % 100, 2)),
            "Y" => (Some(year % 10), num(year % 10, 1)),
            "IYYY" => {
                let y = t.iso_week().year() as i64;
                (Some(y), num(y, 4))
            }
            "MM" => (Some(t.month() as i64), num(t.month() as i64, 2)),
            "MONTH" => (None, pad(cased(MONTHS[t.month0() as usize], token))),
            "MON" => (None, cased(&MONTHS[t.month0() as usize][..3], token)),
            "DD" => (Some(t.day() as i64), num(t.day() as i64, 2)),
            "DDD" => (Some(t.ordinal() as i64), num(t.ordinal() as i64, 3)),
            "D" => {
                let d = t.weekday().num_days_from_sunday() as i64 + 1;
                (Some(d), d.to_string())
            }
            "ID" => {
                let d = t.weekday().number_from_monday() as i64;
                (Some(d), d.to_string())
            }
            "DAY" => (
                None,
                pad(cased(
                    DAYS[t.weekday().num_days_from_sunday() as usize],
                    token,
                )),
            ),
            "DY" => (
                None,
                cased(
                    &DAYS[t.weekday().num_days_from_sunday() as usize][..3],
                    token,
                ),
            ),
            "HH" | "HH12" => (Some(hour12), num(hour12, 2)),
            "HH24" => (Some(t.hour() as i64), num(t.hour() as i64, 2)),
            "MI" => (Some(t.minute() as i64), num(t.minute() as i64, 2)),
            "SS" => (Some(t.second() as i64), num(t.second() as i64, 2)),
            "MS" => {
                let ms = (t.nanosecond() / 1_000_000) as i64;
                (Some(ms), num(ms, 3))
            }
            "US" => {
                let us = (t.nanosecond() / 1000) as i64;
                (Some(us), num(us, 6))
            }
            "AM" | "PM" => (None, cased(if t.hour() < 12 { "am" } else { "pm" }, token)),
            "A.M." | "P.M." => (
                None,
                cased(if t.hour() < 12 { "a.m." } else { "p.m." }, token),
            ),
            "Q" => {
                let q = (t.month0() / 3 + 1) as i64;
                (Some(q), q.to_string())
            }
            "WW" => {
                let w = (t.ordinal0() / 7 + 1) as i64;
                (Some(w), num(w, 2))
            }
            "IW" => {
                let w = t.iso_week().week() as i64;
                (Some(w), num(w, 2))
            }
            "W" => {
                let w = ((t.day() - 1) / 7 + 1) as i64;
                (Some(w), w.to_string())
            }
            "CC" => {
                let c = if year > 0 {
                    (year - 1) / 100 + 1
                } else {
                    year / 100 - 1
                };
                (Some(c), num(c, 2))
            }
            "J" => {
                // Julian day: days since 4714-11-24 BC (proleptic Gregorian).
                let j = t.date().num_days_from_ce() as i64 + 1_721_425;
                (Some(j), j.to_string())
            }
            _ => (None, String::new()),
        };
        out.push_str(&text);
        i += (if fill { 2 } else { 0 }) + token.chars().count();
        // Ordinal suffix after a number (`DDth`, `DDTH`).
        let after: String = chars[i.min(chars.len())..].iter().collect();
        if let Some(n) = numeric {
            if after.starts_with("TH") || after.starts_with("th") {
                out.push_str(ordinal(n, after.starts_with("TH")));
                i += 2;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::format;

    #[test]
    fn patterns_format_as_postgresql_does() {
        let t = chrono::NaiveDate::from_ymd_opt(2024, 3, 5)
            .unwrap()
            .and_hms_micro_opt(14, 7, 9, 250_000)
            .unwrap();
        let f = |p: &str| format(&t, p).unwrap();
        assert_eq!(f("YYYY-MM-DD"), "2024-03-05");
        assert_eq!(f("YYYY\"年\"MM\"月\"DD\"日\""), "2024年03月05日");
        assert_eq!(f("DD/MM/YY"), "05/03/24");
        assert_eq!(f("Mon DD, YYYY"), "Mar 05, 2024");
        assert_eq!(f("Month"), "March    ");
        assert_eq!(f("FMMonth FMDDth"), "March 5th");
        assert_eq!(f("HH24:MI:SS.MS"), "14:07:09.250");
        assert_eq!(f("HH12 AM"), "02 PM");
        assert_eq!(f("Q"), "1");
        assert_eq!(f("Day"), "Tuesday  ");
        assert_eq!(f("DY"), "TUE");
        assert_eq!(f("IYYY-IW"), "2024-10");
        assert_eq!(f("DDD"), "065");
        assert!(format(&t, "HH24 TZ").is_err());
    }
}
