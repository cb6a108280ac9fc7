//! Declarative table layouts and a streaming Parquet writer for them: rows are
//! pushed one at a time, buffered into Arrow batches of [`BATCH_ROWS`] and
//! written as row groups of the same size, so memory stays bounded however big
//! the city is.

use crate::DemoError;
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int32Builder,
    Int64Builder, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows per Arrow batch and per Parquet row group.
pub(crate) const BATCH_ROWS: usize = 64 * 1024;

/// Column types the generator writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Str,
    Int32,
    Int64,
    Float64,
    Date,
    Bool,
    /// Money: Decimal128(12, 2), pushed as cents.
    Money,
}

impl Kind {
    fn data_type(self) -> DataType {
        match self {
            Kind::Str => DataType::Utf8,
            Kind::Int32 => DataType::Int32,
            Kind::Int64 => DataType::Int64,
            Kind::Float64 => DataType::Float64,
            Kind::Date => DataType::Date32,
            Kind::Bool => DataType::Boolean,
            Kind::Money => DataType::Decimal128(12, 2),
        }
    }
}

/// One column: name, type, nullability, catalog comment and sensitivity class.
pub(crate) struct ColSpec {
    pub name: &'static str,
    pub kind: Kind,
    pub nullable: bool,
    pub comment: &'static str,
    pub class: Option<&'static str>,
}

/// How rows of a table are placed in the area tree.
pub(crate) enum Place {
    /// By its `grid_code` column.
    Grid,
    /// Through its `id_number` column into `persons.id_number`.
    PersonKey,
    /// Reference data.
    Public,
}

/// One table: SQL name, catalog comment, placement, columns.
pub(crate) struct TableSpec {
    pub name: &'static str,
    pub comment: &'static str,
    pub place: Place,
    pub cols: &'static [ColSpec],
}

impl TableSpec {
    /// The Arrow schema of the table.
    pub(crate) fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.cols
                .iter()
                .map(|c| Field::new(c.name, c.kind.data_type(), c.nullable))
                .collect::<Vec<_>>(),
        ))
    }

    /// The file name of the table in the output folder.
    pub(crate) fn file_name(&self) -> String {
        format!("{}.parquet", self.name)
    }
}

/// One cell value pushed into a row.
#[derive(Clone, Copy, Debug)]
pub(crate) enum V<'a> {
    S(&'a str),
    I(i32),
    L(i64),
    F(f64),
    D(i32),
    B(bool),
    /// Cents of a Money column.
    M(i64),
    Null,
}

/// `V::S` or `V::Null`.
pub(crate) fn os(v: Option<&str>) -> V<'_> {
    v.map(V::S).unwrap_or(V::Null)
}

/// `V::D` or `V::Null`.
pub(crate) fn od<'a>(v: Option<i32>) -> V<'a> {
    v.map(V::D).unwrap_or(V::Null)
}

enum Builder {
    Str(StringBuilder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Float64(Float64Builder),
    Date(Date32Builder),
    Bool(BooleanBuilder),
    Money(Decimal128Builder),
}

impl Builder {
    fn new(kind: Kind) -> Result<Self, DemoError> {
        Ok(match kind {
            Kind::Str => Builder::Str(StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 16)),
            Kind::Int32 => Builder::Int32(Int32Builder::with_capacity(BATCH_ROWS)),
            Kind::Int64 => Builder::Int64(Int64Builder::with_capacity(BATCH_ROWS)),
            Kind::Float64 => Builder::Float64(Float64Builder::with_capacity(BATCH_ROWS)),
            Kind::Date => Builder::Date(Date32Builder::with_capacity(BATCH_ROWS)),
            Kind::Bool => Builder::Bool(BooleanBuilder::with_capacity(BATCH_ROWS)),
            Kind::Money => Builder::Money(
                Decimal128Builder::with_capacity(BATCH_ROWS)
                    .with_precision_and_scale(12, 2)
                    .map_err(|e| DemoError::Internal(e.to_string()))?,
            ),
        })
    }

    fn append(&mut self, v: V<'_>) -> bool {
        match (self, v) {
            (Builder::Str(b), V::S(s)) => b.append_value(s),
            (Builder::Int32(b), V::I(x)) => b.append_value(x),
            (Builder::Int64(b), V::L(x)) => b.append_value(x),
            (Builder::Float64(b), V::F(x)) => b.append_value(x),
            (Builder::Date(b), V::D(x)) => b.append_value(x),
            (Builder::Bool(b), V::B(x)) => b.append_value(x),
            (Builder::Money(b), V::M(x)) => b.append_value(i128::from(x)),
            (Builder::Str(b), V::Null) => b.append_null(),
            (Builder::Int32(b), V::Null) => b.append_null(),
            (Builder::Int64(b), V::Null) => b.append_null(),
            (Builder::Float64(b), V::Null) => b.append_null(),
            (Builder::Date(b), V::Null) => b.append_null(),
            (Builder::Bool(b), V::Null) => b.append_null(),
            (Builder::Money(b), V::Null) => b.append_null(),
            _ => return false,
        }
        true
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Str(b) => Arc::new(b.finish()),
            Builder::Int32(b) => Arc::new(b.finish()),
            Builder::Int64(b) => Arc::new(b.finish()),
            Builder::Float64(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Money(b) => Arc::new(b.finish()),
        }
    }
}

/// Columns looked up one value at a time (an identity number, a phone, a
/// credit code, a household): a bloom filter per row group lets a lookup
/// skip the row groups that cannot hold the value, as an index would (their
/// values are not clustered, so min/max statistics cannot).
const LOOKUP_COLUMNS: [&str; 8] = [
    "id_number",
    "phone",
    "credit_code",
    "household_no",
    "owner_id_number",
    "legal_rep_id",
    "head_id_number",
    "plate_no",
];

/// Rows per data page. A grid's rows are stored together, and the page
/// index narrows a scan to the pages that hold them; the writer's default
/// (20,000 rows) made a grid user's roster of 317 people decode 20,480 rows
/// of every column it returns.
const PAGE_ROWS: usize = 8 * 1024;

/// Columns whose values hardly repeat within a row group, written without
/// a dictionary. A reader decodes a column chunk's whole dictionary before
/// any of its pages, so with one a grid's roster decoded the identity
/// numbers, phones, names and birth dates of a row group's 65,536 people to
/// return a few hundred; and a dictionary of unique values saves no space
/// (the writer gave up on it after a megabyte and wrote the rest plain).
const PLAIN_COLUMNS: [(&str, &str); 4] = [
    ("persons", "id_number"),
    ("persons", "phone"),
    ("persons", "name"),
    ("persons", "birth_date"),
];

/// Writer properties of `table`'s files: fixed row groups with statistics per
/// page so area filters prune row groups and pages, bloom filters on the
/// lookup columns, dictionaries only where values repeat, ZSTD for size.
pub(crate) fn writer_properties(table: &str) -> Result<WriterProperties, DemoError> {
    use datafusion::parquet::schema::types::ColumnPath;
    let level = ZstdLevel::try_new(1).map_err(|e| DemoError::Internal(e.to_string()))?;
    let mut builder = WriterProperties::builder()
        .set_max_row_group_row_count(Some(BATCH_ROWS))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_data_page_row_count_limit(PAGE_ROWS)
        .set_compression(Compression::ZSTD(level))
        .set_created_by("zhenjie-demo".to_string());
    for (_, column) in PLAIN_COLUMNS.iter().filter(|(t, _)| *t == table) {
        builder = builder.set_column_dictionary_enabled(ColumnPath::from(*column), false);
    }
    for column in LOOKUP_COLUMNS {
        let path = ColumnPath::from(column);
        builder = builder
            .set_column_bloom_filter_enabled(path.clone(), true)
            .set_column_bloom_filter_max_ndv(path.clone(), BATCH_ROWS as u64)
            .set_column_bloom_filter_fpp(path, 0.01);
    }
    Ok(builder.build())
}

/// A table being written: a temp file that becomes `<name>.parquet` when
/// [`Sink::finish`] succeeds and the caller renames it.
pub(crate) struct Sink {
    spec: &'static TableSpec,
    schema: SchemaRef,
    builders: Vec<Builder>,
    rows: usize,
    writer: Option<ArrowWriter<BufWriter<File>>>,
    /// Where the file is being written.
    pub tmp_path: PathBuf,
    /// Where it goes once the whole city is written.
    pub final_path: PathBuf,
}

impl Sink {
    /// Opens the temp file for `spec` in `dir`.
    pub(crate) fn create(dir: &Path, spec: &'static TableSpec) -> Result<Self, DemoError> {
        let final_path = dir.join(spec.file_name());
        let tmp_path = dir.join(format!(".{}.tmp", spec.file_name()));
        let file = File::create(&tmp_path).map_err(|source| DemoError::Io {
            path: tmp_path.clone(),
            source,
        })?;
        let schema = spec.schema();
        let writer = ArrowWriter::try_new(
            BufWriter::with_capacity(1 << 20, file),
            schema.clone(),
            Some(writer_properties(spec.name)?),
        )
        .map_err(|source| DemoError::Parquet {
            path: tmp_path.clone(),
            source,
        })?;
        let builders = spec
            .cols
            .iter()
            .map(|c| Builder::new(c.kind))
            .collect::<Result<_, _>>()?;
        Ok(Sink {
            spec,
            schema,
            builders,
            rows: 0,
            writer: Some(writer),
            tmp_path,
            final_path,
        })
    }

    /// Appends one row; values must follow the spec's column order and types.
    pub(crate) fn push(&mut self, row: &[V<'_>]) -> Result<(), DemoError> {
        if row.len() != self.builders.len() {
            return Err(DemoError::Internal(format!(
                "table {}: row has {} values, the table has {} columns",
                self.spec.name,
                row.len(),
                self.builders.len()
            )));
        }
        for (i, (b, v)) in self.builders.iter_mut().zip(row).enumerate() {
            let col = &self.spec.cols[i];
            if matches!(v, V::Null) && !col.nullable {
                return Err(DemoError::Internal(format!(
                    "table {}: column {} is not nullable",
                    self.spec.name, col.name
                )));
            }
            if !b.append(*v) {
                return Err(DemoError::Internal(format!(
                    "table {}: value {v:?} does not fit column {} ({:?})",
                    self.spec.name, col.name, col.kind
                )));
            }
        }
        self.rows += 1;
        if self.rows >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DemoError> {
        if self.rows == 0 {
            return Ok(());
        }
        let columns: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        let batch = RecordBatch::try_new(self.schema.clone(), columns).map_err(|source| {
            DemoError::Arrow {
                table: self.spec.name.to_string(),
                source,
            }
        })?;
        self.rows = 0;
        if let Some(w) = self.writer.as_mut() {
            w.write(&batch).map_err(|source| DemoError::Parquet {
                path: self.tmp_path.clone(),
                source,
            })?;
        }
        Ok(())
    }

    /// Writes the remaining rows and the footer, and syncs the temp file.
    pub(crate) fn finish(&mut self) -> Result<(), DemoError> {
        self.flush()?;
        if let Some(w) = self.writer.take() {
            let inner = w.into_inner().map_err(|source| DemoError::Parquet {
                path: self.tmp_path.clone(),
                source,
            })?;
            let file = inner.into_inner().map_err(|e| DemoError::Io {
                path: self.tmp_path.clone(),
                source: e.into_error(),
            })?;
            file.sync_all().map_err(|source| DemoError::Io {
                path: self.tmp_path.clone(),
                source,
            })?;
        }
        Ok(())
    }
}
