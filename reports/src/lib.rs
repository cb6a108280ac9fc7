//! Reports: the base-level forms the platform fills from data, rendered for
//! one user's area through the embedded engine, as CSV, XLSX or Parquet —
//! or, for templates with coordinates, as GeoJSON for map tools and as an
//! SVG picture.
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
mod geo;
mod xlsx;

pub use csv::write_csv;
pub use geo::{write_geojson, write_svg};
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
    /// The SQL names of the columns (GeoJSON properties, Parquet columns).
    pub columns: Vec<String>,
    pub labels: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// One subtotal per area one level below the report's (per village in a
    /// town's report of grids), after that area's last row.
    pub subtotals: Vec<Subtotal>,
    /// The totals row: sums of the totalled columns, empty elsewhere.
    pub totals: Option<Vec<Cell>>,
    /// The query's result as Arrow batches (for Parquet).
    pub batches: Vec<RecordBatch>,
}

/// The subtotal row of one area.
#[derive(Debug, Clone, PartialEq)]
pub struct Subtotal {
    /// Index of the area's last row in `rows`.
    pub after: usize,
    /// Its cells: 小计 and the area in the first, sums of totalled columns.
    pub cells: Vec<Cell>,
}

/// What kind of line of a rendered table a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    Row,
    Subtotal,
    Total,
}

impl Rendered {
    /// Every line in the order a form prints them: rows, each area's
    /// subtotal after its last row, the totals last.
    pub fn lines(&self) -> impl Iterator<Item = (&[Cell], Line)> {
        let mut subtotals = self.subtotals.iter().peekable();
        let mut out: Vec<(&[Cell], Line)> = Vec::new();
        for (i, row) in self.rows.iter().enumerate() {
            out.push((row, Line::Row));
            while let Some(s) = subtotals.next_if(|s| s.after == i) {
                out.push((&s.cells, Line::Subtotal));
            }
        }
        out.extend(self.totals.iter().map(|t| (t.as_slice(), Line::Total)));
        out.into_iter()
    }
}

/// Sums of the totalled columns over `rows`, under `first` in column one.
fn sums(report: &Report, rows: &[Vec<Cell>], first: String) -> Vec<Cell> {
    report
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i == 0 {
                Cell::Text(first.clone())
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
}

/// Subtotals by the areas one level below `level` that the report's area
/// column falls in; none when no area has more than one row.
fn subtotals(
    report: &Report,
    catalog: &zhenjie_catalog::Catalog,
    level: zhenjie_catalog::Level,
    rows: &[Vec<Cell>],
) -> Vec<Subtotal> {
    use zhenjie_catalog::Level;
    let Some(column) = report.area_column.as_deref() else {
        return Vec::new();
    };
    let Some(index) = report.columns.iter().position(|c| c.name == column) else {
        return Vec::new();
    };
    if !report.columns.iter().any(|c| c.total) {
        return Vec::new();
    }
    let child = match level {
        Level::City => Level::County,
        Level::County => Level::Town,
        Level::Town => Level::Village,
        Level::Village => Level::Grid,
        Level::Grid => return Vec::new(),
    };
    let len = child.prefix_len();
    let key = |r: &Vec<Cell>| match &r[index] {
        Cell::Text(code) if code.len() > len => Some(code[..len].to_string()),
        _ => None,
    };
    // Runs of rows in one area (templates order by their area column).
    let mut runs: Vec<(String, usize, usize)> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let Some(k) = key(r) else {
            return Vec::new();
        };
        match runs.last_mut() {
            Some((last, _, end)) if *last == k => *end = i,
            _ => runs.push((k, i, i)),
        }
    }
    if runs.iter().all(|(_, start, end)| start == end) {
        return Vec::new();
    }
    runs.into_iter()
        .map(|(prefix, start, end)| {
            let code = format!("{prefix:0<12}");
            let name = catalog
                .areas
                .get(&code)
                .map(|a| a.name.clone())
                .unwrap_or_default();
            Subtotal {
                after: end,
                cells: sums(report, &rows[start..=end], format!("小计 {prefix} {name}")),
            }
        })
        .collect()
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
    let (sql, area_name, level) = match area {
        None => (
            report.sql.clone(),
            format!("{} {}", principal.area.code, principal.area.name),
            principal.level,
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
                a.level,
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
    let totals = report
        .columns
        .iter()
        .any(|c| c.total)
        .then(|| sums(report, &rows, "合计".into()));
    let subtotals = subtotals(report, session.engine().catalog(), level, &rows);
    Ok(Rendered {
        name: report.name.clone(),
        title: report.title.clone(),
        area: area_name,
        columns: names,
        labels: report.columns.iter().map(|c| c.label.clone()).collect(),
        rows,
        subtotals,
        totals,
        batches,
    })
}

/// Writes the report's rows (no subtotals or totals) as Parquet, with the
/// query's own column names and types, for further analysis.
pub fn write_parquet(r: &Rendered, path: &std::path::Path) -> Result<(), ReportError> {
    use datafusion::parquet::arrow::ArrowWriter;
    let err = |message: String| ReportError::Write {
        path: path.display().to_string(),
        message,
    };
    let Some(first) = r.batches.first() else {
        return Err(err("the report has no rows; Parquet needs a schema".into()));
    };
    let file = std::fs::File::create(path).map_err(|e| err(e.to_string()))?;
    let mut writer =
        ArrowWriter::try_new(file, first.schema(), None).map_err(|e| err(e.to_string()))?;
    for b in &r.batches {
        writer.write(b).map_err(|e| err(e.to_string()))?;
    }
    writer.close().map_err(|e| err(e.to_string()))?;
    Ok(())
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
