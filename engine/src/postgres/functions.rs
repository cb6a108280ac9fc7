//! PostgreSQL functions clients call that DataFusion lacks or answers
//! differently: privileges, `format`, `json_build_object`, sizes, constants.

use super::*;

/// `has_table_privilege` and its siblings: what zhenjie lets anyone do with
/// what they can see — read it (SELECT, USAGE, CONNECT) and nothing else.
/// Tools such as Metabase ask before offering edits; `datafusion-pg-catalog`
/// answers `true` to everything. Only the last argument (the privilege, or a
/// comma-separated list of them) matters: invisible objects are not in this
/// session's catalog at all.
pub(crate) fn privilege_udf(name: &str) -> datafusion::logical_expr::ScalarUDF {
    use datafusion::arrow::array::{Array, AsArray, BooleanArray};
    use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, Signature, Volatility};
    #[derive(Debug, PartialEq, Eq, Hash)]
    struct Privilege {
        name: String,
        signature: Signature,
    }
    impl datafusion::logical_expr::ScalarUDFImpl for Privilege {
        fn name(&self) -> &str {
            &self.name
        }
        fn signature(&self) -> &Signature {
            &self.signature
        }
        fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
            Ok(DataType::Boolean)
        }
        fn invoke_with_args(
            &self,
            args: ScalarFunctionArgs,
        ) -> datafusion::error::Result<ColumnarValue> {
            let allowed = |p: &str| {
                p.split(',').any(|one| {
                    let one = one.trim().to_ascii_uppercase();
                    let one = one.trim_end_matches(" WITH GRANT OPTION");
                    matches!(one, "SELECT" | "USAGE" | "CONNECT")
                })
            };
            let last = args.args.last().cloned().ok_or_else(|| {
                datafusion::error::DataFusionError::Plan("privilege argument missing".into())
            })?;
            let privileges = last.into_array(args.number_rows)?;
            let privileges = datafusion::arrow::compute::cast(&privileges, &DataType::Utf8)?;
            let privileges = privileges.as_string::<i32>();
            let out: BooleanArray = (0..privileges.len())
                .map(|i| (!privileges.is_null(i)).then(|| allowed(privileges.value(i))))
                .collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        }
    }
    datafusion::logical_expr::ScalarUDF::new_from_impl(Privilege {
        name: name.to_string(),
        signature: Signature::variadic_any(Volatility::Stable),
    })
}

/// `information_schema._pg_expandarray(int2vector)`, which pgjdbc's
/// `getPrimaryKeys`/`getIndexInfo` and Metabase call on `pg_index.indkey`.
/// In PostgreSQL it returns one `(x, n)` row per array element; zhenjie has
/// no indexes (`pg_index` is empty), so the function is never called on a
/// row — it only has to exist with the right result type for those queries
/// to plan. It answers `(NULL, NULL)`.
pub(crate) fn expandarray_udf() -> datafusion::logical_expr::ScalarUDF {
    use datafusion::arrow::array::StructArray;
    use datafusion::arrow::datatypes::Fields;
    use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, Signature, Volatility};
    fn fields() -> Fields {
        Fields::from(vec![
            Field::new("x", DataType::Int32, true),
            Field::new("n", DataType::Int32, true),
        ])
    }
    #[derive(Debug, PartialEq, Eq, Hash)]
    struct ExpandArray(Signature);
    impl datafusion::logical_expr::ScalarUDFImpl for ExpandArray {
        fn name(&self) -> &str {
            "_pg_expandarray"
        }
        fn signature(&self) -> &Signature {
            &self.0
        }
        fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
            Ok(DataType::Struct(fields()))
        }
        fn invoke_with_args(
            &self,
            args: ScalarFunctionArgs,
        ) -> datafusion::error::Result<ColumnarValue> {
            let n = args.number_rows;
            let out = StructArray::new_null(fields(), n);
            Ok(ColumnarValue::Array(Arc::new(out)))
        }
    }
    datafusion::logical_expr::ScalarUDF::new_from_impl(ExpandArray(Signature::any(
        1,
        Volatility::Immutable,
    )))
}

/// PostgreSQL's `format(fmt, args…)` with `%s`, `%I` (identifier), `%L`
/// (literal) and `%%`: Metabase builds `format('%I.%I', schema, table)::regclass`
/// while syncing, and report SQL uses it for labels.
pub(crate) fn format_udf() -> datafusion::logical_expr::ScalarUDF {
    row_text_udf("format", |args, row| {
        let text = |i: usize| -> datafusion::error::Result<Option<String>> {
            match args.get(i) {
                Some(a) => {
                    let v = datafusion::common::ScalarValue::try_from_array(a, row)?;
                    Ok((!v.is_null()).then(|| v.to_string()))
                }
                None => Ok(None),
            }
        };
        let Some(fmt) = text(0)? else {
            return Ok(None);
        };
        let values = (1..args.len())
            .map(text)
            .collect::<datafusion::error::Result<Vec<_>>>()?;
        let values: Vec<Option<&str>> = values.iter().map(|v| v.as_deref()).collect();
        format_row(&fmt, &values)
            .map(Some)
            .map_err(datafusion::error::DataFusionError::Execution)
    })
}

/// PostgreSQL's `quote_ident(text)`: the name as is when it is a plain
/// lower-case identifier, otherwise double-quoted (`"MiXeD"`, `"张伟"`), as
/// SQL generated by report designers and `format('%I')` needs it.
pub(crate) fn quote_ident_udf() -> datafusion::logical_expr::ScalarUDF {
    row_text_udf("quote_ident", |args, row| {
        let v = datafusion::common::ScalarValue::try_from_array(&args[0], row)?;
        if v.is_null() {
            return Ok(None);
        }
        Ok(Some(quote_ident(&v.to_string())))
    })
}

/// PostgreSQL's `quote_literal(value)` and `quote_nullable(value)`: the
/// value's text as a string literal (`'it''s'`, `E'a\\b'` when it holds a
/// backslash); NULL stays NULL, or is the word `NULL` for `quote_nullable`.
pub(crate) fn quote_literal_udfs() -> [datafusion::logical_expr::ScalarUDF; 2] {
    [
        row_text_udf("quote_literal", |args, row| {
            let v = datafusion::common::ScalarValue::try_from_array(&args[0], row)?;
            Ok((!v.is_null()).then(|| quote_literal(&v.to_string())))
        }),
        row_text_udf("quote_nullable", |args, row| {
            let v = datafusion::common::ScalarValue::try_from_array(&args[0], row)?;
            Ok(Some(if v.is_null() {
                "NULL".to_string()
            } else {
                quote_literal(&v.to_string())
            }))
        }),
    ]
}

fn quote_literal(text: &str) -> String {
    let quoted = text.replace('\'', "''");
    if text.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A variadic text function of PostgreSQL's (`format`,
/// `json_build_object`) computed row by row from its arguments' values:
/// the one shape those functions share here.
pub(super) fn row_text_udf(
    name: &'static str,
    row: fn(
        &[datafusion::arrow::array::ArrayRef],
        usize,
    ) -> datafusion::error::Result<Option<String>>,
) -> datafusion::logical_expr::ScalarUDF {
    row_typed_udf(name, None, row)
}

/// [`row_text_udf`] whose text is of a PostgreSQL type carried as text
/// (`json`), marked so clients receive that type.
pub(super) fn row_typed_udf(
    name: &'static str,
    pg_type: Option<&'static str>,
    row: fn(
        &[datafusion::arrow::array::ArrayRef],
        usize,
    ) -> datafusion::error::Result<Option<String>>,
) -> datafusion::logical_expr::ScalarUDF {
    use datafusion::logical_expr::{
        ColumnarValue, ScalarFunctionArgs, Signature, TypeSignature, Volatility,
    };
    #[derive(Debug)]
    struct RowText {
        name: &'static str,
        pg_type: Option<&'static str>,
        signature: Signature,
        row: fn(
            &[datafusion::arrow::array::ArrayRef],
            usize,
        ) -> datafusion::error::Result<Option<String>>,
    }
    impl PartialEq for RowText {
        fn eq(&self, other: &Self) -> bool {
            self.name == other.name
        }
    }
    impl Eq for RowText {}
    impl std::hash::Hash for RowText {
        fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
            self.name.hash(state);
        }
    }
    impl datafusion::logical_expr::ScalarUDFImpl for RowText {
        fn name(&self) -> &str {
            self.name
        }
        fn signature(&self) -> &Signature {
            &self.signature
        }
        fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
            Ok(DataType::Utf8)
        }
        fn return_field_from_args(
            &self,
            _: datafusion::logical_expr::ReturnFieldArgs,
        ) -> datafusion::error::Result<datafusion::arrow::datatypes::FieldRef> {
            let field = Field::new(self.name, DataType::Utf8, true);
            Ok(Arc::new(match self.pg_type {
                Some(t) => {
                    field.with_metadata([(crate::PG_TYPE_KEY.to_string(), t.to_string())].into())
                }
                None => field,
            }))
        }
        fn invoke_with_args(
            &self,
            args: ScalarFunctionArgs,
        ) -> datafusion::error::Result<ColumnarValue> {
            let n = args.number_rows;
            let arrays = args
                .args
                .iter()
                .map(|a| a.clone().into_array(n))
                .collect::<datafusion::error::Result<Vec<_>>>()?;
            let mut out = datafusion::arrow::array::StringBuilder::new();
            for row in 0..n {
                out.append_option((self.row)(&arrays, row)?);
            }
            Ok(ColumnarValue::Array(Arc::new(out.finish())))
        }
    }
    datafusion::logical_expr::ScalarUDF::new_from_impl(RowText {
        name,
        pg_type,
        signature: Signature::one_of(
            vec![TypeSignature::Nullary, TypeSignature::VariadicAny],
            Volatility::Stable,
        ),
        row,
    })
}

/// One `format()` result; `args` are the arguments after the format (`None`
/// a NULL).
pub(super) fn format_row(fmt: &str, args: &[Option<&str>]) -> std::result::Result<String, String> {
    let arg = |i: usize| {
        args.get(i)
            .copied()
            .ok_or_else(|| "too few arguments for format()".to_string())
    };
    let mut out = String::new();
    let mut next = 0;
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.clone().next() == Some('%') {
            chars.next();
            out.push('%');
            continue;
        }
        // `%[position$][-][width]type`, width a number or `*[position$]`.
        let number = |chars: &mut std::str::Chars| -> Option<usize> {
            let digits: String = chars.clone().take_while(|c| c.is_ascii_digit()).collect();
            if digits.is_empty() {
                return None;
            }
            chars.nth(digits.len() - 1);
            digits.parse().ok()
        };
        let position = |chars: &mut std::str::Chars| -> std::result::Result<Option<usize>, String> {
            let mut ahead = chars.clone();
            match number(&mut ahead) {
                Some(n) if ahead.clone().next() == Some('$') => {
                    ahead.next();
                    *chars = ahead;
                    if n == 0 {
                        return Err(
                            "format specifies argument 0, but arguments are numbered from 1".into(),
                        );
                    }
                    Ok(Some(n - 1))
                }
                _ => Ok(None),
            }
        };
        if let Some(p) = position(&mut chars)? {
            next = p;
        }
        let mut left = false;
        while chars.clone().next() == Some('-') {
            chars.next();
            left = true;
        }
        let mut width = None;
        if chars.clone().next() == Some('*') {
            chars.next();
            // (The value is the argument after the width's, as in PostgreSQL.)
            let at = position(&mut chars)?.unwrap_or(next);
            next = at + 1;
            let w: i64 = match arg(at)? {
                None => 0,
                Some(w) => w
                    .trim()
                    .parse()
                    .map_err(|_| format!("invalid input syntax for type integer: \"{w}\""))?,
            };
            if w < 0 {
                left = true;
            }
            width = Some(w.unsigned_abs() as usize);
        } else if let Some(w) = number(&mut chars) {
            width = Some(w);
        }
        let spec = chars.next().ok_or("unterminated format() type specifier")?;
        let value = arg(next)?;
        next += 1;
        let start = out.len();
        match spec {
            's' => out.push_str(value.unwrap_or("")),
            'I' => {
                let v = value.ok_or("null values cannot be formatted as an SQL identifier")?;
                let plain = v
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                    && v.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if plain {
                    out.push_str(v);
                } else {
                    out.push('"');
                    out.push_str(&v.replace('"', "\"\""));
                    out.push('"');
                }
            }
            'L' => match value {
                None => out.push_str("NULL"),
                Some(v) => {
                    out.push('\'');
                    out.push_str(&v.replace('\'', "''"));
                    out.push('\'');
                }
            },
            other => return Err(format!("unrecognized format() type specifier \"{other}\"")),
        }
        if let Some(width) = width {
            let written = out[start..].chars().count();
            if written < width {
                let pad = " ".repeat(width - written);
                if left {
                    out.push_str(&pad);
                } else {
                    out.insert_str(start, &pad);
                }
            }
        }
    }
    Ok(out)
}

/// `cbrt` as PostgreSQL computes it: the C library's (glibc's) `cbrt`.
/// DataFusion's is a power of one third, and Rust's own `cbrt` is correctly
/// rounded where glibc's is not always: `cbrt(16)` is `2.519842099789747`
/// in PostgreSQL, a last digit away from both. Where the C library cannot be
/// found, Rust's stands in.
pub(crate) fn cbrt_udf() -> datafusion::logical_expr::ScalarUDF {
    use datafusion::arrow::array::{AsArray, Float64Array};
    use datafusion::arrow::datatypes::Float64Type;
    use datafusion::logical_expr::{ColumnarValue, Signature, Volatility};
    datafusion::logical_expr::ScalarUDF::from(
        datafusion::logical_expr::SimpleScalarUDF::new_with_signature(
            "cbrt",
            Signature::uniform(1, vec![DataType::Float64], Volatility::Immutable),
            DataType::Float64,
            Arc::new(|args: &[ColumnarValue]| {
                let xs = ColumnarValue::values_to_arrays(args)?;
                let cbrt = c_library_cbrt();
                let out: Float64Array = xs[0]
                    .as_primitive::<Float64Type>()
                    .iter()
                    .map(|x| x.map(|x| cbrt.map_or_else(|| x.cbrt(), |f| f(x))))
                    .collect();
                Ok(ColumnarValue::Array(Arc::new(out)))
            }),
        ),
    )
}

/// glibc's `cbrt`, looked up in `libm.so.6` itself: a plain `extern "C"`
/// declaration resolves to Rust's own math routines, linked in first.
fn c_library_cbrt() -> Option<extern "C" fn(f64) -> f64> {
    static CBRT: OnceLock<Option<extern "C" fn(f64) -> f64>> = OnceLock::new();
    *CBRT.get_or_init(|| {
        // SAFETY: dlopen/dlsym with NUL-terminated names; the symbol is the
        // C library's `double cbrt(double)`, whose ABI the type states. The
        // library handle is kept open for the life of the process.
        unsafe {
            let library = libc::dlopen(c"libm.so.6".as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
            if library.is_null() {
                return None;
            }
            let symbol = libc::dlsym(library, c"cbrt".as_ptr());
            if symbol.is_null() {
                return None;
            }
            Some(std::mem::transmute::<
                *mut libc::c_void,
                extern "C" fn(f64) -> f64,
            >(symbol))
        }
    })
}

/// `pg_char_to_encoding(name)`: PostgreSQL's number of an encoding (psql's
/// `\dO` lists collations by it); zhenjie speaks UTF8 only, so the other
/// names are -1, PostgreSQL's answer for an unknown encoding.
pub(crate) fn char_to_encoding_udf() -> datafusion::logical_expr::ScalarUDF {
    use datafusion::arrow::array::{AsArray, Int32Array};
    use datafusion::logical_expr::{ColumnarValue, Signature, Volatility};
    datafusion::logical_expr::ScalarUDF::from(
        datafusion::logical_expr::SimpleScalarUDF::new_with_signature(
            "pg_char_to_encoding",
            Signature::uniform(1, vec![DataType::Utf8], Volatility::Immutable),
            DataType::Int32,
            Arc::new(|args: &[ColumnarValue]| {
                let names = ColumnarValue::values_to_arrays(args)?;
                let out: Int32Array = names[0]
                    .as_string::<i32>()
                    .iter()
                    .map(|n| {
                        n.map(
                            |n| match n.to_ascii_uppercase().replace(['-', '_'], "").as_str() {
                                "SQLASCII" => 0,
                                "UTF8" | "UNICODE" => 6,
                                _ => -1,
                            },
                        )
                    })
                    .collect();
                Ok(ColumnarValue::Array(Arc::new(out)))
            }),
        ),
    )
}

/// Catalog functions about objects zhenjie never has (index and trigger
/// definitions, …): they exist so tools' listing queries plan, and say NULL,
/// as PostgreSQL does for an OID that names no such object.
pub(crate) fn null_text_udf(name: &str) -> datafusion::logical_expr::ScalarUDF {
    constant_any_udf(name, datafusion::common::ScalarValue::Utf8(None))
}

/// The bytes of the catalog's local data files, for `pg_database_size`
/// (DBeaver's database properties); data in object stores is not counted.
pub(crate) fn local_data_size(engine: &Engine) -> i64 {
    let size = |path: &std::path::Path| -> u64 {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => std::fs::read_dir(path)
                .map(|entries| {
                    entries
                        .filter_map(|e| e.ok()?.metadata().ok())
                        .filter(|m| m.is_file())
                        .map(|m| m.len())
                        .sum()
                })
                .unwrap_or(0),
            Ok(m) => m.len(),
            Err(_) => 0,
        }
    };
    let catalog = engine.catalog();
    catalog
        .file
        .datasets
        .iter()
        .map(|d| catalog.resolve_location(&d.location))
        .filter(|l| !l.contains("://"))
        .map(|l| size(std::path::Path::new(&l)))
        .sum::<u64>() as i64
}

/// A function of any arguments (or none) with a fixed answer, for catalog
/// questions whose answer is the same for everything zhenjie has
/// (`pg_collation_is_visible`: there are only built-in collations).
pub(crate) fn constant_any_udf(
    name: &str,
    value: datafusion::common::ScalarValue,
) -> datafusion::logical_expr::ScalarUDF {
    use datafusion::common::ScalarValue;
    use datafusion::logical_expr::{
        ColumnarValue, ScalarFunctionArgs, Signature, TypeSignature, Volatility,
    };
    #[derive(Debug, PartialEq, Eq, Hash)]
    struct Constant(String, ScalarValue, Signature);
    impl datafusion::logical_expr::ScalarUDFImpl for Constant {
        fn name(&self) -> &str {
            &self.0
        }
        fn signature(&self) -> &Signature {
            &self.2
        }
        fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
            Ok(self.1.data_type())
        }
        fn invoke_with_args(
            &self,
            _: ScalarFunctionArgs,
        ) -> datafusion::error::Result<ColumnarValue> {
            Ok(ColumnarValue::Scalar(self.1.clone()))
        }
    }
    datafusion::logical_expr::ScalarUDF::new_from_impl(Constant(
        name.to_string(),
        value,
        Signature::one_of(
            vec![TypeSignature::Nullary, TypeSignature::VariadicAny],
            Volatility::Stable,
        ),
    ))
}

/// `json_build_object(key, value, …)`: SQLAlchemy's column reflection (and
/// report SQL) builds JSON with it. zhenjie has no JSON type, so the object
/// comes back as its text, which is what PostgreSQL sends on the wire.
pub(crate) fn json_build_object_udf() -> datafusion::logical_expr::ScalarUDF {
    use datafusion::common::ScalarValue;
    use datafusion::error::DataFusionError;
    row_typed_udf("json_build_object", Some("json"), |args, row| {
        if args.len() % 2 != 0 {
            return Err(DataFusionError::Execution(
                "argument list must have even number of elements".into(),
            ));
        }
        let mut text = String::from("{");
        for (i, pair) in args.chunks(2).enumerate() {
            let key = ScalarValue::try_from_array(&pair[0], row)?;
            if key.is_null() {
                return Err(DataFusionError::Execution(
                    "null value not allowed for object key".into(),
                ));
            }
            if i > 0 {
                text.push_str(", ");
            }
            text.push_str(&json_value(&key, true));
            text.push_str(" : ");
            text.push_str(&json_value(
                &ScalarValue::try_from_array(&pair[1], row)?,
                false,
            ));
        }
        text.push('}');
        Ok(Some(text))
    })
}

/// One value in JSON, as PostgreSQL's json functions write it (keys always
/// as strings).
pub(super) fn json_value(v: &datafusion::common::ScalarValue, as_key: bool) -> String {
    use datafusion::common::ScalarValue as S;
    let quoted = super::json::quoted;
    if v.is_null() {
        return "null".into();
    }
    match v {
        S::Boolean(Some(b)) if !as_key => b.to_string(),
        S::Int8(_)
        | S::Int16(_)
        | S::Int32(_)
        | S::Int64(_)
        | S::UInt8(_)
        | S::UInt16(_)
        | S::UInt32(_)
        | S::UInt64(_)
        | S::Float32(_)
        | S::Float64(_)
        | S::Decimal128(..)
            if !as_key =>
        {
            v.to_string()
        }
        S::Utf8(Some(s)) | S::Utf8View(Some(s)) | S::LargeUtf8(Some(s)) => quoted(s),
        other => quoted(&other.to_string()),
    }
}

/// PostgreSQL `to_char`/`to_date`/`to_timestamp` patterns as chrono formats
/// (the subset reports and Superset use: YYYY MM DD HH24 HH12 HH MI SS MS US);
/// `None` when the pattern has anything else, which is then left to fail.
pub(super) fn chrono_format(pattern: &str) -> Option<String> {
    const TOKENS: &[(&str, &str)] = &[
        ("YYYY", "%Y"),
        ("HH24", "%H"),
        ("HH12", "%I"),
        ("HH", "%I"),
        ("MI", "%M"),
        ("SS", "%S"),
        ("MS", "%3f"),
        ("US", "%6f"),
        ("MM", "%m"),
        ("DD", "%d"),
        ("YY", "%y"),
    ];
    let mut out = String::new();
    let mut rest = pattern;
    'outer: while !rest.is_empty() {
        for (pg, chrono) in TOKENS {
            if let Some(r) = rest.strip_prefix(pg) {
                out.push_str(chrono);
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next()?;
        if c.is_ascii_alphabetic() || c == '%' {
            return None;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    Some(out)
}

/// `pg_size_pretty(bigint)`: sizes the way PostgreSQL prints them (psql `\dt+`).
pub(crate) fn pg_size_pretty_udf() -> datafusion::logical_expr::ScalarUDF {
    use datafusion::arrow::array::{Array, Int64Array};
    use datafusion::logical_expr::{create_udf, ColumnarValue, Volatility};
    create_udf(
        "pg_size_pretty",
        vec![DataType::Int64],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let sizes = arrays[0]
                .as_any()
                .downcast_ref::<Int64Array>()
                .ok_or_else(|| {
                    datafusion::error::DataFusionError::Internal(
                        "pg_size_pretty takes bigint".into(),
                    )
                })?;
            let out: StringArray = (0..sizes.len())
                .map(|i| (!sizes.is_null(i)).then(|| size_pretty(sizes.value(i))))
                .collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        }),
    )
}

pub(super) fn size_pretty(size: i64) -> String {
    const LIMIT: i64 = 10 * 1024;
    if size.abs() < LIMIT {
        return format!("{size} bytes");
    }
    let mut value = size;
    for unit in ["kB", "MB", "GB", "TB", "PB"] {
        // Half-units, rounded to nearest, as PostgreSQL does.
        let half = value / 512;
        if half.abs() < 2 * LIMIT - 1 || unit == "PB" {
            return format!("{} {unit}", (half + half.signum()) / 2);
        }
        value /= 1024;
    }
    unreachable!("the loop returns at PB")
}

#[cfg(test)]
mod tests {
    use super::size_pretty;

    #[test]
    fn postgres_date_patterns_become_chrono_formats() {
        assert_eq!(
            super::chrono_format("YYYY-MM-DD").as_deref(),
            Some("%Y-%m-%d")
        );
        assert_eq!(
            super::chrono_format("YYYY-MM-DD HH24:MI:SS.US").as_deref(),
            Some("%Y-%m-%d %H:%M:%S.%6f")
        );
        assert_eq!(super::chrono_format("Month DD"), None);
    }

    #[test]
    fn json_values_are_written_like_postgres() {
        use datafusion::common::ScalarValue as S;
        assert_eq!(
            super::json_value(&S::Utf8(Some("a\"b".into())), false),
            "\"a\\\"b\""
        );
        assert_eq!(super::json_value(&S::Int64(Some(3)), false), "3");
        assert_eq!(super::json_value(&S::Int64(Some(3)), true), "\"3\"");
        assert_eq!(super::json_value(&S::Boolean(None), false), "null");
    }

    #[test]
    fn format_quotes_like_postgres() {
        // Expected strings from PostgreSQL 15's format().
        let args = [Some("public"), Some("Persons"), Some("it's"), Some("-4")];
        let f = |fmt: &str| super::format_row(fmt, &args).unwrap();
        assert_eq!(f("%I.%I"), "public.\"Persons\"");
        assert_eq!(f("%s-%s=%L %%"), "public-Persons='it''s' %");
        assert_eq!(f("%3$s|%1$8s|%-8s|"), "it's|  public|Persons |");
        assert!(super::format_row("%*4$s|", &args).is_err());
        assert_eq!(
            super::format_row("%*s|%*1$s|", &[Some("-4"), Some("ab"), Some("x")]).unwrap(),
            "ab  |ab  |"
        );
        assert!(super::format_row("%I", &[None]).is_err());
        assert!(super::format_row("%s %s", &[Some("a")]).is_err());
        assert_eq!(
            super::format_row("%L|%s|", &[None, None]).unwrap(),
            "NULL||"
        );
    }

    #[test]
    fn sizes_print_like_postgres() {
        // Expected strings from PostgreSQL 15's pg_size_pretty.
        assert_eq!(size_pretty(0), "0 bytes");
        assert_eq!(size_pretty(10239), "10239 bytes");
        assert_eq!(size_pretty(10240), "10 kB");
        assert_eq!(size_pretty(1_000_000), "977 kB");
        assert_eq!(size_pretty(123_456_789), "118 MB");
        assert_eq!(size_pretty(10_000_000_000), "9537 MB");
    }
}
