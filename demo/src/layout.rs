//! The demo city laid out as a province's object store holds its data: each
//! table placed by grid split into one Hive folder per county
//! (`persons/county=370602/part-0.parquet`), so a county or town user's
//! query lists and opens only its own county's files.

use crate::sink::{writer_properties, TableSpec};
use crate::{io, DemoError};
use datafusion::arrow::array::{Array, AsArray, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::arrow::ArrowWriter;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

/// The folder key of the county split, also the column it adds.
pub(crate) const COUNTY: &str = "county";

/// How the generator lays the city's files out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Layout {
    /// One Parquet file per table.
    #[default]
    Flat,
    /// Tables placed by grid in one folder per county
    /// (`<table>/county=<6-digit code>/part-0.parquet`), declared in the
    /// catalog as an area partition.
    ByCounty,
}

/// Replaces `out/<table>.parquet` by `out/<table>/county=…/part-0.parquet`,
/// one file per county in the order rows were written. The folders are
/// built beside the table and moved in whole, so an interrupted split leaves
/// the flat file.
pub(crate) fn split_by_county(out: &Path, spec: &TableSpec) -> Result<(), DemoError> {
    let flat = out.join(spec.file_name());
    let tmp = out.join(format!(".{}.by-county.tmp", spec.name));
    let folder = out.join(spec.name);
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    let file = File::open(&flat).map_err(io(&flat))?;
    let parquet = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DemoError::Parquet { path, source }
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(parquet(&flat))?;
    let mut writers: BTreeMap<String, ArrowWriter<File>> = BTreeMap::new();
    for batch in reader {
        let batch = batch.map_err(|source| DemoError::Arrow {
            table: spec.name.to_string(),
            source,
        })?;
        let codes = batch
            .column_by_name("grid_code")
            .and_then(|c| c.as_string_opt::<i32>())
            .ok_or_else(|| DemoError::Internal(format!("{} has no text grid_code", spec.name)))?;
        let mut rows: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        for i in 0..codes.len() {
            let code = (!codes.is_null(i))
                .then(|| codes.value(i))
                .filter(|c| c.len() >= 6 && c.is_char_boundary(6))
                .ok_or_else(|| {
                    DemoError::Internal(format!("{}: row {i} has no county", spec.name))
                })?;
            rows.entry(&code[..6]).or_default().push(i as u32);
        }
        for (county, indices) in rows {
            let part =
                take_record_batch(&batch, &UInt32Array::from(indices)).map_err(|source| {
                    DemoError::Arrow {
                        table: spec.name.to_string(),
                        source,
                    }
                })?;
            if !writers.contains_key(county) {
                let dir = tmp.join(format!("{COUNTY}={county}"));
                std::fs::create_dir_all(&dir).map_err(io(&dir))?;
                let path = dir.join("part-0.parquet");
                let file = File::create(&path).map_err(io(&path))?;
                let writer =
                    ArrowWriter::try_new(file, batch.schema(), Some(writer_properties(spec.name)?))
                        .map_err(parquet(&path))?;
                writers.insert(county.to_string(), writer);
            }
            let writer = writers.get_mut(county).expect("inserted above");
            writer.write(&part).map_err(parquet(&tmp))?;
        }
    }
    for (_, writer) in writers {
        let file = writer.into_inner().map_err(parquet(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
    }
    if folder.exists() {
        std::fs::remove_dir_all(&folder).map_err(io(&folder))?;
    }
    std::fs::rename(&tmp, &folder).map_err(io(&tmp))?;
    std::fs::remove_file(&flat).map_err(io(&flat))?;
    Ok(())
}
