//! Columns that may carry what a masked column hides.
//!
//! A mask covers one column, but data derived from it is just as telling:
//! the date someone joined the 80+ allowance is their 80th birthday, a
//! nursing subsidy's amount is fixed by the disability grade. Whether a
//! column is derived cannot be read off the data, so [`review`] names the
//! candidates instead: unclassed dates and amounts in datasets that hold
//! classed columns. The operator gives each the class of its source, or a
//! class with no mask rule (`public`) once reviewed.

use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::TableProvider;
use std::collections::BTreeMap;
use std::sync::Arc;
use zhenjie_catalog::Catalog;

/// One warning per unclassed date or amount column beside classed ones.
pub(crate) fn review(
    catalog: &Catalog,
    tables: &BTreeMap<String, Arc<dyn TableProvider>>,
) -> Vec<String> {
    let mut warnings = Vec::new();
    for dataset in &catalog.file.datasets {
        let classed = dataset.columns.values().any(|c| c.class.is_some());
        let Some(table) = tables.get(&dataset.name).filter(|_| classed) else {
            continue;
        };
        for field in table.schema().fields() {
            let telling = matches!(
                field.data_type(),
                DataType::Date32
                    | DataType::Date64
                    | DataType::Timestamp(..)
                    | DataType::Decimal128(..)
                    | DataType::Decimal256(..)
            );
            let unclassed = dataset
                .columns
                .get(field.name())
                .is_none_or(|c| c.class.is_none());
            if telling && unclassed {
                warnings.push(format!(
                    "dataset {} column {} ({}) has no class beside classed columns: if it is derived from a sensitive column (a date from a birth date, an amount set by a health grade), give it that column's class; once reviewed, class = \"public\"",
                    dataset.name,
                    field.name(),
                    field.data_type()
                ));
            }
        }
    }
    warnings
}
