//! Reports: the base-level forms the platform fills from data, rendered for
//! one user's area through the embedded engine, as CSV or XLSX.
//!
//! A template (`zhenjie_catalog::Report`) is data in the catalog: SQL, a
//! title, a label per column and which columns are totalled. It runs as the
//! person who renders it, in their own session, so the fence, the masks and
//! the audit record are theirs; `--area` narrows it to one area inside their
//! fence. Nothing here decides who sees what.
//!
//! Not here: the templates themselves (the demo catalog has the city's), and
//! the wire protocol; BI tools reach the same numbers through views.

mod csv;
mod xlsx;

pub use csv::write_csv;
pub use xlsx::{write_workbook, write_xlsx};

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use zhenjie_catalog::Report;
use zhenjie_engine::Session;

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The template is not in the catalog.
    #[error("no report named {0} (zhenjie report --list shows them)")]
    Unknown(String),
    /// The template's SQL failed for this user, or does not match its columns.
    #[error("report {name}: {message}")]
    Template { name: String, message: String },
    /// `--area` is outside the user's fence or not an area.
    #[error("{0}")]
    Area(String),
    /// Writing the output failed.
    #[error("{path}: {message}")]
    Write { path: String, message: String },
}

/// One cell of a rendered report.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Number(f64),
    Empty,
}

impl Cell {
    fn as_number(&self) -> Option<f64> {
        match self {
            Cell::Int(i) => Some(*i as f64),
            Cell::Number(x) => Some(*x),
            _ => None,
        }
    }
}

/// A report rendered for one user (and area): what the writers write.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub name: String,
    pub title: String,
    /// The area it covers, as the title's subtitle.
    pub area: String,
    pub labels: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// The totals row: sums of the totalled columns, empty elsewhere.
    pub totals: Option<Vec<Cell>>,
}

/// Runs `report` in `session` (optionally narrowed to the area `area`, a
/// code inside the session's fence) and returns its table.
pub async fn render(
    session: &Session,
    report: &Report,
    area: Option<&str>,
) -> Result<Rendered, ReportError> {
    let principal = session.principal();
    let template = |message: String| ReportError::Template {
        name: report.name.clone(),
        message,
    };
    let (sql, area_name) = match area {
        None => (
            report.sql.clone(),
            format!("{} {}", principal.area.code, principal.area.name),
        ),
        Some(code) => {
            let catalog = session.engine().catalog();
            let a = catalog
                .areas
                .get(code)
                .ok_or_else(|| ReportError::Area(format!("{code} is not an area")))?;
            if !a.prefix().starts_with(principal.area.prefix()) {
                return Err(ReportError::Area(format!(
                    "{code} is outside {}'s area {}",
                    principal.user, principal.area.code
                )));
            }
            let column = report.area_column.as_deref().ok_or_else(|| {
                template("has no area_column, so it cannot be narrowed to an area".into())
            })?;
            (
                format!(
                    "SELECT * FROM ({}) AS report WHERE starts_with(report.\"{}\", '{}')",
                    report.sql,
                    column.replace('"', "\"\""),
                    a.prefix()
                ),
                format!("{} {}", a.code, a.name),
            )
        }
    };
    let batches = session.query(&sql).await.map_err(|e| template(e.message))?;
    let names: Vec<String> = match batches.first() {
        Some(b) => b
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect(),
        None => report.columns.iter().map(|c| c.name.clone()).collect(),
    };
    let declared: Vec<&str> = report.columns.iter().map(|c| c.name.as_str()).collect();
    if names
        .iter()
        .map(String::as_str)
        .ne(declared.iter().copied())
    {
        return Err(template(format!(
            "the query returns columns {names:?} but the template labels {declared:?}"
        )));
    }
    let mut rows = Vec::new();
    for b in &batches {
        rows.extend(cells(b).map_err(template)?);
    }
    let totals = report.columns.iter().any(|c| c.total).then(|| {
        report
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == 0 {
                    Cell::Text("合计".into())
                } else if c.total {
                    let sum: f64 = rows.iter().filter_map(|r| r[i].as_number()).sum();
                    if rows
                        .iter()
                        .all(|r| matches!(r[i], Cell::Int(_) | Cell::Empty))
                    {
                        Cell::Int(sum as i64)
                    } else {
                        Cell::Number((sum * 100.0).round() / 100.0)
                    }
                } else {
                    Cell::Empty
                }
            })
            .collect()
    });
    Ok(Rendered {
        name: report.name.clone(),
        title: report.title.clone(),
        area: area_name,
        labels: report.columns.iter().map(|c| c.label.clone()).collect(),
        rows,
        totals,
    })
}

/// A batch as rows of cells: integers and decimals as numbers (so
/// spreadsheets can sum them), everything else as PostgreSQL-like text.
fn cells(batch: &RecordBatch) -> Result<Vec<Vec<Cell>>, String> {
    use datafusion::arrow::datatypes::*;
    let options = FormatOptions::default().with_null("");
    let mut columns: Vec<Box<dyn Fn(usize) -> Cell + '_>> = Vec::new();
    for a in batch.columns() {
        let a = a.as_ref();
        columns.push(match a.data_type() {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32 => {
                let ints = datafusion::arrow::compute::cast(a, &DataType::Int64)
                    .map_err(|e| e.to_string())?;
                let ints = ints.as_primitive::<Int64Type>().clone();
                Box::new(move |i| {
                    if ints.is_valid(i) {
                        Cell::Int(ints.value(i))
                    } else {
                        Cell::Empty
                    }
                })
            }
            DataType::Float32
            | DataType::Float64
            | DataType::Decimal128(..)
            | DataType::Decimal256(..) => {
                let xs = datafusion::arrow::compute::cast(a, &DataType::Float64)
                    .map_err(|e| e.to_string())?;
                let xs = xs.as_primitive::<Float64Type>().clone();
                Box::new(move |i| {
                    if xs.is_valid(i) {
                        Cell::Number(xs.value(i))
                    } else {
                        Cell::Empty
                    }
                })
            }
            _ => {
                let f = ArrayFormatter::try_new(a, &options).map_err(|e| e.to_string())?;
                Box::new(move |i| {
                    if a.is_valid(i) {
                        Cell::Text(f.value(i).to_string())
                    } else {
                        Cell::Empty
                    }
                })
            }
        });
    }
    Ok((0..batch.num_rows())
        .map(|i| columns.iter().map(|c| c(i)).collect())
        .collect())
}
