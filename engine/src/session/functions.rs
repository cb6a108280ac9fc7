//! Functions whose answer is fixed for the session: who the caller is and
//! what server this is.

use crate::Principal;
use datafusion::arrow::datatypes::DataType;
use std::sync::Arc;

/// A function of no arguments returning a fixed text.
pub(super) fn constant_udf(name: &str, value: String) -> datafusion::logical_expr::ScalarUDF {
    use datafusion::logical_expr::{create_udf, ColumnarValue, Volatility};
    create_udf(
        name,
        vec![],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(move |_: &[ColumnarValue]| {
            Ok(ColumnarValue::Scalar(
                datafusion::common::ScalarValue::Utf8(Some(value.clone())),
            ))
        }),
    )
}

/// `current_area()`, `current_area_name()` and `current_level()`: the
/// caller's fence as constants, for report templates that adapt to who runs them.
pub(super) fn principal_functions(
    principal: &Principal,
) -> Vec<datafusion::logical_expr::ScalarUDF> {
    let constant = constant_udf;
    vec![
        constant("current_area", principal.area.code.clone()),
        constant("current_area_name", principal.area.name.clone()),
        constant("current_level", principal.level.as_str().to_string()),
    ]
}

/// `version()` in PostgreSQL's shape: drivers (SQLAlchemy, pgjdbc, Npgsql)
/// parse the leading `PostgreSQL <major>.<minor>` to choose their queries.
pub(super) fn version_udf() -> datafusion::logical_expr::ScalarUDF {
    let text = format!(
        "PostgreSQL {} (zhenjie {}, Apache DataFusion {}) on {}-linux, 64-bit",
        crate::SERVER_VERSION,
        env!("CARGO_PKG_VERSION"),
        datafusion::DATAFUSION_VERSION,
        std::env::consts::ARCH,
    );
    constant_udf("version", text)
}
