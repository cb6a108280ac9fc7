//! `to_char(date | timestamp, pattern)` with PostgreSQL's template patterns
//! (`YYYY-MM-DD`, `FMMonth DD, YYYY`, `HH24:MI:SS`, `"年"`, …).
//!
//! DataFusion's `to_char` reads chrono's `%Y-%m-%d` patterns and copies a
//! PostgreSQL pattern through as text — a report showing `YYYY-MM-DD` in
//! every row. This one replaces it in every session. Integers and numerics
//! take PostgreSQL's number patterns (`9`, `0`, `.`/`D`, `,`/`G`, `FM`,
//! `S`, `MI`, `PL`, `SG`: `to_char(1234.5, '9,999.99')` is ` 1,234.50`). A
//! pattern element it does not implement (time zone names, Roman numerals,
//! `EEEE`), or a float, is an error (0A000), never a different answer.

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

/// `to_char` of integers or numerics, row by row.
fn numbers(values: &ArrayRef, patterns: &ArrayRef) -> Result<ColumnarValue> {
    let values = match values.data_type() {
        DataType::Decimal128(..) => values.clone(),
        _ => datafusion::arrow::compute::cast(values, &DataType::Decimal128(38, 0))?,
    };
    let DataType::Decimal128(_, scale) = values.data_type().clone() else {
        unreachable!("cast to a decimal");
    };
    let values = values.as_primitive::<datafusion::arrow::datatypes::Decimal128Type>();
    let patterns = datafusion::arrow::compute::cast(patterns, &DataType::Utf8)?;
    let patterns = patterns.as_string::<i32>();
    let mut out = StringBuilder::with_capacity(values.len(), values.len() * 12);
    for i in 0..values.len() {
        if values.is_null(i) || patterns.is_null(i) {
            out.append_null();
            continue;
        }
        let text = number_text(values.value(i), scale.max(0) as u32, patterns.value(i))
            .map_err(unsupported)?;
        out.append_value(text);
    }
    Ok(ColumnarValue::Array(Arc::new(out.finish())))
}

/// One element of a number pattern.
#[derive(Debug, Clone, Copy, PartialEq)]
enum NumberPart {
    Nine,
    Zero,
    Point,
    Group,
    /// `S`, `MI`, `PL`, `SG`: where the sign goes, and how it is shown.
    Sign(&'static str),
    Literal(char),
}

/// `v / 10^scale` written with PostgreSQL's number pattern.
fn number_text(v: i128, scale: u32, pattern: &str) -> std::result::Result<String, String> {
    use NumberPart::*;
    let mut fill_mode = false;
    let mut parts = Vec::new();
    let upper = pattern.to_ascii_uppercase();
    let mut rest = upper.as_str();
    while let Some(c) = rest.chars().next() {
        let (part, len) = match c {
            '9' => (Some(Nine), 1),
            '0' => (Some(Zero), 1),
            '.' | 'D' => (Some(Point), 1),
            ',' | 'G' => (Some(Group), 1),
            'S' if rest.starts_with("SG") => (Some(Sign("SG")), 2),
            'S' => (Some(Sign("S")), 1),
            'M' if rest.starts_with("MI") => (Some(Sign("MI")), 2),
            'P' if rest.starts_with("PL") => (Some(Sign("PL")), 2),
            'F' if rest.starts_with("FM") => {
                fill_mode = true;
                (None, 2)
            }
            ' ' | '-' | '+' | '$' | '%' | '/' | ':' | '(' | ')' | '元' | '¥' => {
                (Some(Literal(c)), c.len_utf8())
            }
            c if !c.is_ascii_alphanumeric() => (Some(Literal(c)), c.len_utf8()),
            _ => {
                return Err(format!(
                    "to_char number pattern \"{pattern}\" is not supported: zhenjie reads 9, 0, \
                     . D , G FM S MI PL SG"
                ))
            }
        };
        parts.extend(part);
        rest = &rest[len..];
    }
    let point = parts.iter().position(|p| *p == Point);
    let digit = |p: &NumberPart| matches!(p, Nine | Zero);
    let int_positions = parts[..point.unwrap_or(parts.len())]
        .iter()
        .filter(|p| digit(p))
        .count();
    let frac_positions = point.map_or(0, |at| parts[at..].iter().filter(|p| digit(p)).count());
    // |v| rounded half away from zero to the pattern's decimals.
    let negative = v < 0;
    let magnitude = v.unsigned_abs();
    let scaled = if scale as usize >= frac_positions {
        let divisor = 10u128.pow(scale - frac_positions as u32);
        (magnitude + divisor / 2) / divisor
    } else {
        magnitude
            .checked_mul(10u128.pow(frac_positions as u32 - scale))
            .ok_or("to_char: the number is too long for zhenjie")?
    };
    let unit = 10u128.pow(frac_positions as u32);
    // A zero integer part prints nothing before a point, `0` without one.
    let int_digits = match scaled / unit {
        0 if point.is_some() => String::new(),
        i => i.to_string(),
    };
    let frac_digits = format!("{:0width$}", scaled % unit, width = frac_positions);
    let overflow = int_digits.len() > int_positions;
    // The first '0' among the integer positions prints zeros from there on.
    let zero_from = parts[..point.unwrap_or(parts.len())]
        .iter()
        .filter(|p| digit(p))
        .position(|p| *p == Zero)
        .unwrap_or(int_positions);
    let first_digit = zero_from.min(int_positions - int_digits.len().min(int_positions));
    let mut text: Vec<char> = Vec::new();
    let (mut int_seen, mut frac_seen) = (0usize, 0usize);
    let mut printed = false;
    let mut frac_nines = Vec::new();
    let mut anchored = false;
    for (i, p) in parts.iter().enumerate() {
        let before_point = point.is_none_or(|at| i < at);
        match p {
            Nine | Zero if before_point => {
                let k = int_seen;
                int_seen += 1;
                if overflow {
                    text.push('#');
                    printed = true;
                } else if k >= first_digit {
                    let from_right = int_positions - 1 - k;
                    let c = int_digits
                        .len()
                        .checked_sub(1 + from_right)
                        .and_then(|d| int_digits.chars().nth(d))
                        .unwrap_or('0');
                    text.push(c);
                    printed = true;
                } else {
                    text.push(' ');
                }
            }
            Nine | Zero => {
                let c = if overflow {
                    '#'
                } else {
                    frac_digits.chars().nth(frac_seen).unwrap_or('0')
                };
                frac_seen += 1;
                if *p == Nine {
                    frac_nines.push(text.len());
                }
                text.push(c);
                printed = true;
            }
            Point => {
                text.push('.');
                printed = true;
            }
            Group => text.push(if printed { ',' } else { ' ' }),
            // A leading S sits next to the number, as the default sign.
            Sign("S") if int_seen == 0 && !printed => anchored = true,
            Sign(kind) => {
                text.push(match (*kind, negative) {
                    ("MI", true) | ("S", true) | ("SG", true) => '-',
                    ("MI", false) => ' ',
                    ("PL", true) => ' ',
                    (_, false) => '+',
                    (_, true) => '-',
                });
            }
            Literal(c) => text.push(*c),
        }
    }
    // Without S, MI or SG the sign has a column of its own (PL shows only
    // a plus), just before the first character printed.
    let has_sign = parts.iter().any(|p| matches!(p, Sign(k) if *k != "PL"));
    if !has_sign || anchored {
        let first = text.iter().position(|c| *c != ' ').unwrap_or(text.len());
        let sign = match (negative, anchored) {
            (true, _) => '-',
            (false, true) => '+',
            (false, false) => ' ',
        };
        text.insert(first, sign);
    }
    let has_sign = has_sign && !anchored;
    if fill_mode {
        // FM: no padding blanks, no trailing zeros in 9 positions.
        for &at in frac_nines.iter().rev() {
            let at = at + usize::from(!has_sign);
            if text.get(at) == Some(&'0') && text[at + 1..].iter().all(|c| *c == ' ') {
                text[at] = ' ';
            } else {
                break;
            }
        }
        let s: String = text.into_iter().collect();
        return Ok(s.trim().to_string());
    }
    Ok(text.into_iter().collect())
}

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
            t if t.is_integer() || matches!(t, DataType::Decimal128(..)) => Ok(DataType::Utf8),
            other => Err(unsupported(format!(
                "to_char of {other} is not supported: zhenjie formats dates, timestamps, \
                 integers and numerics with PostgreSQL's patterns (cast a float to numeric)"
            ))),
        }
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let values = args.args[0].to_array(n)?;
        if values.data_type().is_integer() || matches!(values.data_type(), DataType::Decimal128(..))
        {
            return numbers(&values, &args.args[1].to_array(n)?);
        }
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
