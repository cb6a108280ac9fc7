//! Opening the catalog's datasets as DataFusion tables, once per engine.

use crate::{EngineError, EngineOptions, Result};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::prelude::{SessionConfig, SessionContext};
use std::collections::BTreeMap;
use std::sync::Arc;
use zhenjie_catalog::{Catalog, Dataset, Format, Placement};

/// Opens every dataset; the first one that fails stops the engine with a message
/// naming it.
pub(crate) async fn open_all(
    catalog: &Catalog,
    runtime: &Arc<RuntimeEnv>,
    options: &EngineOptions,
) -> Result<BTreeMap<String, Arc<dyn TableProvider>>> {
    let ctx = SessionContext::new_with_config_rt(
        SessionConfig::new().with_target_partitions(options.target_partitions),
        runtime.clone(),
    );
    register_object_stores(catalog, runtime)?;
    let state = ctx.state();
    let mut tables = BTreeMap::new();
    for d in &catalog.file.datasets {
        let table = open_one(catalog, d, &state).await.map_err(|e| {
            EngineError::new(
                e.code,
                format!(
                    "dataset {} ({}): {}",
                    d.name,
                    catalog.resolve_location(&d.location),
                    e.message
                ),
            )
        })?;
        tables.insert(d.name.clone(), table);
    }
    for d in &catalog.file.datasets {
        check_columns(d, &tables).map_err(|m| {
            EngineError::new(
                crate::error::sqlstate::UNDEFINED_COLUMN,
                format!("dataset {}: {m}", d.name),
            )
        })?;
    }
    Ok(tables)
}

/// Registers each declared S3-compatible bucket with the runtime, so
/// `s3://bucket/…` locations read from it. Settings come from the catalog's
/// options over the usual `AWS_*` environment variables.
pub(crate) fn register_object_stores(catalog: &Catalog, runtime: &Arc<RuntimeEnv>) -> Result<()> {
    use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
    for o in &catalog.file.object_stores {
        let bad = |m: String| {
            EngineError::new(
                crate::error::sqlstate::INVALID_PARAMETER_VALUE,
                format!("object store {}: {m}", o.url),
            )
        };
        let url = url::Url::parse(&o.url).map_err(|e| bad(e.to_string()))?;
        let mut builder = AmazonS3Builder::from_env().with_url(o.url.as_str());
        for (key, value) in &o.options {
            let key: AmazonS3ConfigKey = key
                .parse()
                .map_err(|_| bad(format!("unknown option {key}")))?;
            builder = builder.with_config(key, value);
        }
        let store = builder.build().map_err(|e| bad(e.to_string()))?;
        runtime.register_object_store(&url, Arc::new(store));
    }
    Ok(())
}

async fn open_one(
    catalog: &Catalog,
    d: &Dataset,
    state: &datafusion::execution::SessionState,
) -> Result<Arc<dyn TableProvider>> {
    let mut location = catalog.resolve_location(&d.location);
    if d.snapshots {
        let loads = loads(state.runtime_env(), &location).await?;
        let Some(newest) = loads.last() else {
            return Err(EngineError::new(
                crate::error::sqlstate::UNDEFINED_FILE,
                "has snapshots but no dated load (a YYYY-MM-DD folder) in its location",
            ));
        };
        location = load_location(&location, newest);
    }
    open_at(d, &location, state, None).await
}

/// The folder of one dated load of a dataset with snapshots.
pub(crate) fn load_location(location: &str, day: &str) -> String {
    format!("{}/{day}/", location.trim_end_matches('/'))
}

/// The dated loads of a dataset with snapshots, oldest first: the
/// `YYYY-MM-DD` folders directly under its location.
pub(crate) async fn loads(runtime: &Arc<RuntimeEnv>, location: &str) -> Result<Vec<String>> {
    let folder = format!("{}/", location.trim_end_matches('/'));
    let url = ListingTableUrl::parse(&folder)?;
    let store = runtime.object_store(url.object_store())?;
    let listed = store
        .list_with_delimiter(Some(url.prefix()))
        .await
        .map_err(datafusion::error::DataFusionError::from)?;
    let mut days: Vec<String> = listed
        .common_prefixes
        .iter()
        .filter_map(|p| p.filename().map(str::to_string))
        .filter(|name| zhenjie_catalog::is_iso_date(name))
        .collect();
    days.sort();
    Ok(days)
}

/// A dataset's files at `location` as a table; `schema` when it must be
/// the dataset's own (an older load read with today's columns).
pub(crate) async fn open_at(
    d: &Dataset,
    location: &str,
    state: &dyn datafusion::catalog::Session,
    schema: Option<SchemaRef>,
) -> Result<Arc<dyn TableProvider>> {
    let url = ListingTableUrl::parse(location)?;
    let (format, ext): (Arc<dyn FileFormat>, &str) = match d.format {
        Format::Parquet => (Arc::new(ParquetFormat::default()), ".parquet"),
        Format::Csv => (Arc::new(CsvFormat::default().with_has_header(true)), ".csv"),
    };
    // Hive folders are text columns after the files' own; their values are
    // folder names, never read from the files.
    let folders: Vec<(String, DataType)> = d
        .partitions
        .iter()
        .map(|p| (p.name.clone(), DataType::Utf8))
        .collect();
    let listing = ListingOptions::new(format)
        .with_file_extension(ext)
        .with_table_partition_cols(folders);
    let schema = match schema {
        // The table's schema less its folder columns: the files' own.
        Some(s) => Arc::new(Schema::new(
            s.fields()
                .iter()
                .filter(|f| !d.partitions.iter().any(|p| &p.name == f.name()))
                .cloned()
                .collect::<Vec<_>>(),
        )),
        None => {
            let inferred = listing.infer_schema(state, &url).await?;
            if d.format == Format::Csv {
                codes_as_text(inferred, d)
            } else {
                inferred
            }
        }
    };
    let config = ListingTableConfig::new(url)
        .with_listing_options(listing)
        .with_schema(schema);
    // Every governed scan plans its files' statistics (the fence proof, join
    // sizes); the runtime's cache keeps them per file, checked against the
    // file's size and modification time at each listing.
    let cache = state.runtime_env().cache_manager.get_file_statistic_cache();
    Ok(Arc::new(ListingTable::try_new(config)?.with_cache(cache)))
}

/// CSV inference reads area codes and identity numbers as integers (losing
/// leading zeros and the trailing X); the columns that place rows are text.
fn codes_as_text(schema: SchemaRef, d: &Dataset) -> SchemaRef {
    let keep: Vec<&str> = match &d.placement {
        Some(Placement::Column { column }) | Some(Placement::Key { column, .. }) => {
            vec![column.as_str()]
        }
        _ => vec![],
    };
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let classed = d.columns.get(f.name()).is_some_and(|c| c.class.is_some());
            if keep.contains(&f.name().as_str()) || classed {
                Field::new(f.name(), DataType::Utf8, true)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    Arc::new(Schema::new(fields))
}

fn check_columns(
    d: &Dataset,
    tables: &BTreeMap<String, Arc<dyn TableProvider>>,
) -> std::result::Result<(), String> {
    let schema = tables[&d.name].schema();
    let has = |c: &str| schema.field_with_name(c).is_ok();
    for c in d.columns.keys() {
        if !has(c) {
            return Err(format!(
                "column {c} is described in the catalog but not in the data"
            ));
        }
    }
    match &d.placement {
        Some(Placement::Column { column }) if !has(column) => {
            Err(format!("placement column {column} is not in the data"))
        }
        Some(Placement::Key {
            column,
            dataset,
            dataset_column,
            ..
        }) => {
            if !has(column) {
                return Err(format!("placement key column {column} is not in the data"));
            }
            let other = tables[dataset].schema();
            if other.field_with_name(dataset_column).is_err() {
                return Err(format!(
                    "placement key {dataset}.{dataset_column} does not exist"
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
