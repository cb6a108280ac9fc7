//! CSV for spreadsheets and scripts: UTF-8 with a byte-order mark (so
//! Excel and WPS read the Chinese labels right), a title line, the labels,
//! the rows with each area's subtotal, and the totals row.

use crate::{Cell, Rendered, ReportError};
use std::io::Write;

fn quoted(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn cell(c: &Cell) -> String {
    match c {
        Cell::Text(s) => quoted(s),
        Cell::Int(i) => i.to_string(),
        Cell::Number(x) => x.to_string(),
        Cell::Empty => String::new(),
    }
}

/// Writes `r` as CSV to `out`.
pub fn write_csv(r: &Rendered, out: &mut dyn Write, path: &str) -> Result<(), ReportError> {
    let err = |e: std::io::Error| ReportError::Write {
        path: path.to_string(),
        message: e.to_string(),
    };
    let mut text = String::from("\u{feff}");
    text.push_str(&quoted(&format!("{}（{}）", r.title, r.area)));
    text.push('\n');
    text.push_str(
        &r.labels
            .iter()
            .map(|l| quoted(l))
            .collect::<Vec<_>>()
            .join(","),
    );
    text.push('\n');
    for (row, _) in r.lines() {
        text.push_str(&row.iter().map(cell).collect::<Vec<_>>().join(","));
        text.push('\n');
    }
    out.write_all(text.as_bytes()).map_err(err)
}
