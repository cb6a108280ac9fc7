//! PostgreSQL's `json` and `jsonb`, carried as text: the operators (`->`,
//! `->>`, `#>`, `#>>`, `?`, `@>`, `<@`), the functions report SQL and BI
//! tools use (`json_typeof`, `json_array_length`, `json_build_array`,
//! `to_json`, `row_to_json`, `json_agg`), and input that is checked and,
//! for `jsonb`, written as PostgreSQL writes it (keys sorted, `", "` and
//! `": "` between items).
//!
//! A value's column says which of the two it is ([`crate::PG_TYPE_KEY`]):
//! `json` keeps its text as written (an element taken out of it is that
//! slice of the text), `jsonb` is always its normal form.
//!
//! Not here: a JSON type inside DataFusion (every value is parsed where an
//! operator reads it), `jsonpath`, and the set-returning functions
//! (`json_each`, `json_object_keys`), which fail as unknown functions.

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Int32Builder, StringArray, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{DFSchema, DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ExprSchemable, ReturnFieldArgs, ScalarFunctionArgs,
    ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::sql::sqlparser::ast::BinaryOperator;
use std::sync::{Arc, LazyLock};

// ---------------------------------------------------------------- values

/// One parsed JSON value and where its text lies in the document.
#[derive(Debug)]
struct Node {
    start: usize,
    end: usize,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Null,
    Bool(bool),
    Number,
    Str(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

fn invalid(text: &str) -> DataFusionError {
    let shown: String = text.chars().take(60).collect();
    DataFusionError::External(Box::new(crate::EngineError::new(
        crate::error::sqlstate::INVALID_TEXT_REPRESENTATION,
        format!("invalid input syntax for type json: \"{shown}\""),
    )))
}

fn parse(text: &str) -> Result<Node> {
    let mut p = Parser {
        s: text.as_bytes(),
        at: 0,
        depth: 0,
    };
    let node = p.value().ok_or_else(|| invalid(text))?;
    p.space();
    if p.at != p.s.len() {
        return Err(invalid(text));
    }
    Ok(node)
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn space(&mut self) {
        while self.at < self.s.len() && matches!(self.s[self.at], b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        self.space();
        if self.s.get(self.at) == Some(&b) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn word(&mut self, w: &[u8]) -> bool {
        if self.s[self.at..].starts_with(w) {
            self.at += w.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Option<Node> {
        self.space();
        let start = self.at;
        // (Deep nesting is refused rather than recursed into without end.)
        if self.depth > 512 {
            return None;
        }
        let kind = match *self.s.get(self.at)? {
            b'n' if self.word(b"null") => Kind::Null,
            b't' if self.word(b"true") => Kind::Bool(true),
            b'f' if self.word(b"false") => Kind::Bool(false),
            b'"' => Kind::Str(self.string()?),
            b'-' | b'0'..=b'9' => {
                self.number()?;
                Kind::Number
            }
            b'[' => {
                self.at += 1;
                self.depth += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value()?);
                        if self.eat(b']') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                self.depth -= 1;
                Kind::Array(items)
            }
            b'{' => {
                self.at += 1;
                self.depth += 1;
                let mut items = Vec::new();
                if !self.eat(b'}') {
                    loop {
                        self.space();
                        if self.s.get(self.at) != Some(&b'"') {
                            return None;
                        }
                        let key = self.string()?;
                        if !self.eat(b':') {
                            return None;
                        }
                        items.push((key, self.value()?));
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                self.depth -= 1;
                Kind::Object(items)
            }
            _ => return None,
        };
        Some(Node {
            start,
            end: self.at,
            kind,
        })
    }

    fn number(&mut self) -> Option<()> {
        let digits = |p: &mut Self| {
            let from = p.at;
            while p.at < p.s.len() && p.s[p.at].is_ascii_digit() {
                p.at += 1;
            }
            p.at > from
        };
        if self.s[self.at] == b'-' {
            self.at += 1;
        }
        if self.s.get(self.at) == Some(&b'0') {
            self.at += 1;
        } else if !digits(self) {
            return None;
        }
        if self.s.get(self.at) == Some(&b'.') {
            self.at += 1;
            if !digits(self) {
                return None;
            }
        }
        if matches!(self.s.get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.s.get(self.at), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if !digits(self) {
                return None;
            }
        }
        Some(())
    }

    fn string(&mut self) -> Option<String> {
        self.at += 1; // the opening quote
        let mut out = Vec::new();
        loop {
            let b = *self.s.get(self.at)?;
            self.at += 1;
            match b {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.s.get(self.at)?;
                    self.at += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let mut code = self.hex4()?;
                            if (0xD800..0xDC00).contains(&code) {
                                // A surrogate pair.
                                if !self.word(b"\\u") {
                                    return None;
                                }
                                let low = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return None;
                                }
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                            }
                            // (PostgreSQL refuses \u0000 in text.)
                            if code == 0 {
                                return None;
                            }
                            char::from_u32(code)?
                        }
                        _ => return None,
                    };
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => return None,
                b => out.push(b),
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = std::str::from_utf8(self.s.get(self.at..self.at + 4)?).ok()?;
        self.at += 4;
        u32::from_str_radix(h, 16).ok()
    }
}

/// A string as PostgreSQL's JSON output escapes it.
pub(super) fn quoted(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\u{8}' => q.push_str("\\b"),
            '\u{c}' => q.push_str("\\f"),
            '\n' => q.push_str("\\n"),
            '\r' => q.push_str("\\r"),
            '\t' => q.push_str("\\t"),
            c if (c as u32) < 0x20 => q.push_str(&format!("\\u{:04x}", c as u32)),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// A JSON number as `jsonb` keeps it: PostgreSQL's numeric text (`1e2` is
/// `100`, `1.50` stays `1.50`).
fn numeric_text(raw: &str) -> String {
    use std::str::FromStr;
    match bigdecimal::BigDecimal::from_str(raw) {
        Ok(d) => {
            let (_, scale) = d.as_bigint_and_exponent();
            let d = if scale < 0 { d.with_scale(0) } else { d };
            d.to_plain_string()
        }
        Err(_) => raw.to_string(),
    }
}

/// `node` as `jsonb` writes it.
fn normal(doc: &str, node: &Node, out: &mut String) {
    match &node.kind {
        Kind::Null => out.push_str("null"),
        Kind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Kind::Number => out.push_str(&numeric_text(&doc[node.start..node.end])),
        Kind::Str(s) => out.push_str(&quoted(s)),
        Kind::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                normal(doc, item, out);
            }
            out.push(']');
        }
        Kind::Object(_) => {
            out.push('{');
            for (i, (key, value)) in object_entries(node).into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&quoted(key));
                out.push_str(": ");
                normal(doc, value, out);
            }
            out.push('}');
        }
    }
}

/// An object's entries as `jsonb` keeps them: the last of a repeated key,
/// keys shorter first, then by their bytes.
fn object_entries(node: &Node) -> Vec<(&String, &Node)> {
    let Kind::Object(items) = &node.kind else {
        return Vec::new();
    };
    let mut entries: Vec<(&String, &Node)> = Vec::new();
    for (k, v) in items {
        match entries.iter_mut().find(|(e, _)| *e == k) {
            Some(e) => e.1 = v,
            None => entries.push((k, v)),
        }
    }
    entries.sort_by(|a, b| (a.0.len(), a.0.as_bytes()).cmp(&(b.0.len(), b.0.as_bytes())));
    entries
}

/// The text of `node` as a value of the document's type.
fn text_of(doc: &str, node: &Node, jsonb: bool) -> String {
    if jsonb {
        let mut out = String::new();
        normal(doc, node, &mut out);
        out
    } else {
        doc[node.start..node.end].to_string()
    }
}

// ---------------------------------------------------------------- types

/// Whether a column holds `jsonb` (else `json` or plain text).
fn is_jsonb(field: &Field) -> bool {
    field.metadata().get(crate::PG_TYPE_KEY).map(String::as_str) == Some("jsonb")
}

fn is_json(field: &Field) -> bool {
    matches!(
        field.metadata().get(crate::PG_TYPE_KEY).map(String::as_str),
        Some("json" | "jsonb")
    )
}

/// A text field marked as `json` or `jsonb`.
fn json_field(name: &str, jsonb: bool) -> FieldRef {
    let kind = if jsonb { "jsonb" } else { "json" };
    Arc::new(
        Field::new(name, DataType::Utf8, true)
            .with_metadata([(crate::PG_TYPE_KEY.to_string(), kind.to_string())].into()),
    )
}

fn text_array(v: &ColumnarValue, n: usize) -> Result<StringArray> {
    let a = v.to_array(n)?;
    let a = datafusion::arrow::compute::cast(&a, &DataType::Utf8)?;
    Ok(a.as_string::<i32>().clone())
}

// ---------------------------------------------------------------- functions

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    /// `->`: the element at a key or index, as json.
    Arrow,
    /// `->>`: the same element as text.
    LongArrow,
    /// `#>`: the element at a path.
    Path,
    /// `#>>`: the same as text.
    PathText,
    /// `?`: a top-level key (or string element) exists.
    Exists,
    /// `@>`: the left value contains the right.
    Contains,
    /// `<@`: the right value contains the left.
    ContainedBy,
    /// `json_typeof` / `jsonb_typeof`.
    TypeOf,
    /// `json_array_length` / `jsonb_array_length`.
    ArrayLength,
    /// `json(b)_build_array(…)`.
    BuildArray { jsonb: bool },
    /// `to_json` / `to_jsonb`.
    ToJson { jsonb: bool },
    /// `row_to_json(record)`.
    RowToJson,
    /// A list (from `array_agg`) as a JSON array: what `json_agg` becomes.
    ListToJson { jsonb: bool },
    /// Text read as `json` or `jsonb`: checked, and for `jsonb` normalised.
    Input { jsonb: bool },
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Json {
    op: Op,
    name: &'static str,
    signature: Signature,
}

fn udf(op: Op, name: &'static str) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::from(Json {
        op,
        name,
        signature: Signature::variadic_any(Volatility::Immutable),
    }))
}

static OPERATORS: LazyLock<[Arc<ScalarUDF>; 7]> = LazyLock::new(|| {
    [
        udf(Op::Arrow, "pg_json_arrow"),
        udf(Op::LongArrow, "pg_json_long_arrow"),
        udf(Op::Path, "pg_json_path"),
        udf(Op::PathText, "pg_json_path_text"),
        udf(Op::Exists, "pg_jsonb_exists"),
        udf(Op::Contains, "pg_jsonb_contains"),
        udf(Op::ContainedBy, "pg_jsonb_contained"),
    ]
});

/// Reads text as `json` (`jsonb`: and normalises it); what a cast to either
/// becomes.
pub(crate) static JSON_IN: LazyLock<[Arc<ScalarUDF>; 2]> = LazyLock::new(|| {
    [
        udf(Op::Input { jsonb: false }, "pg_json_in"),
        udf(Op::Input { jsonb: true }, "pg_jsonb_in"),
    ]
});

/// `json_agg(x ORDER BY …)` is this over `array_agg(x ORDER BY …)`.
pub(crate) static LIST_TO_JSON: LazyLock<[Arc<ScalarUDF>; 2]> = LazyLock::new(|| {
    [
        udf(Op::ListToJson { jsonb: false }, "pg_json_from_list"),
        udf(Op::ListToJson { jsonb: true }, "pg_jsonb_from_list"),
    ]
});

/// The JSON functions to register in a session.
pub(crate) fn json_udfs() -> Vec<Arc<ScalarUDF>> {
    let mut udfs = vec![
        udf(Op::TypeOf, "json_typeof"),
        udf(Op::TypeOf, "jsonb_typeof"),
        udf(Op::ArrayLength, "json_array_length"),
        udf(Op::ArrayLength, "jsonb_array_length"),
        udf(Op::BuildArray { jsonb: false }, "json_build_array"),
        udf(Op::BuildArray { jsonb: true }, "jsonb_build_array"),
        udf(Op::ToJson { jsonb: false }, "to_json"),
        udf(Op::ToJson { jsonb: true }, "to_jsonb"),
        udf(Op::RowToJson, "row_to_json"),
    ];
    udfs.extend(LIST_TO_JSON.iter().cloned());
    udfs
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        datafusion::logical_expr::DocSection {
            include: true,
            label: "JSON Functions",
            description: None,
        },
        "PostgreSQL's JSON functions and operators over json and jsonb text \
         (`->`, `->>`, `#>`, `#>>`, `?`, `@>`, `<@`, json_typeof, \
         json_array_length, json_build_array, to_json, row_to_json, json_agg).",
        "json_typeof(json)",
    )
    .with_sql_example("SELECT '{\"a\":{\"b\":2}}'::json -> 'a' ->> 'b';")
    .build()
});

impl ScalarUDFImpl for Json {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Err(DataFusionError::Internal(
            "return_field_from_args is used".into(),
        ))
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let first_jsonb = args.arg_fields.first().is_some_and(|f| is_jsonb(f));
        Ok(match self.op {
            Op::Arrow | Op::Path => json_field(self.name, first_jsonb),
            Op::Input { jsonb }
            | Op::BuildArray { jsonb }
            | Op::ToJson { jsonb }
            | Op::ListToJson { jsonb } => json_field(self.name, jsonb),
            Op::RowToJson => json_field(self.name, false),
            Op::LongArrow | Op::PathText | Op::TypeOf => {
                Arc::new(Field::new(self.name, DataType::Utf8, true))
            }
            Op::Exists | Op::Contains | Op::ContainedBy => {
                Arc::new(Field::new(self.name, DataType::Boolean, true))
            }
            Op::ArrayLength => Arc::new(Field::new(self.name, DataType::Int32, true)),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let jsonb = args.arg_fields.first().is_some_and(|f| is_jsonb(f));
        let array: ArrayRef = match self.op {
            Op::Arrow | Op::LongArrow | Op::Path | Op::PathText => {
                let docs = text_array(&args.args[0], n)?;
                let keys = args.args[1..]
                    .iter()
                    .map(|k| k.to_array(n))
                    .collect::<Result<Vec<_>>>()?;
                let path = matches!(self.op, Op::Path | Op::PathText);
                let as_text = matches!(self.op, Op::LongArrow | Op::PathText);
                let mut out = StringBuilder::new();
                for row in 0..n {
                    if docs.is_null(row) {
                        out.append_null();
                        continue;
                    }
                    let doc = docs.value(row);
                    let root = parse(doc)?;
                    let mut at = Some(&root);
                    for k in &keys {
                        let key = ScalarValue::try_from_array(k, row)?;
                        at = at.and_then(|node| step(node, &key, path));
                    }
                    match at {
                        None => out.append_null(),
                        Some(node) if as_text => match &node.kind {
                            Kind::Null => out.append_null(),
                            Kind::Str(s) => out.append_value(s),
                            _ => out.append_value(text_of(doc, node, jsonb)),
                        },
                        Some(node) => out.append_value(text_of(doc, node, jsonb)),
                    }
                }
                Arc::new(out.finish())
            }
            Op::Exists => {
                let docs = text_array(&args.args[0], n)?;
                let keys = text_array(&args.args[1], n)?;
                let mut out = BooleanBuilder::new();
                for row in 0..n {
                    if docs.is_null(row) || keys.is_null(row) {
                        out.append_null();
                        continue;
                    }
                    let root = parse(docs.value(row))?;
                    let key = keys.value(row);
                    out.append_value(match &root.kind {
                        Kind::Object(items) => items.iter().any(|(k, _)| k == key),
                        Kind::Array(items) => items
                            .iter()
                            .any(|i| matches!(&i.kind, Kind::Str(s) if s == key)),
                        Kind::Str(s) => s == key,
                        _ => false,
                    });
                }
                Arc::new(out.finish())
            }
            Op::Contains | Op::ContainedBy => {
                let (a, b) = (text_array(&args.args[0], n)?, text_array(&args.args[1], n)?);
                let (a, b) = if self.op == Op::Contains {
                    (a, b)
                } else {
                    (b, a)
                };
                let mut out = BooleanBuilder::new();
                for row in 0..n {
                    if a.is_null(row) || b.is_null(row) {
                        out.append_null();
                        continue;
                    }
                    let (da, db) = (a.value(row), b.value(row));
                    let (na, nb) = (parse(da)?, parse(db)?);
                    out.append_value(contains(da, &na, db, &nb, true));
                }
                Arc::new(out.finish())
            }
            Op::TypeOf => {
                let docs = text_array(&args.args[0], n)?;
                let mut out = StringBuilder::new();
                for row in 0..n {
                    if docs.is_null(row) {
                        out.append_null();
                        continue;
                    }
                    out.append_value(match parse(docs.value(row))?.kind {
                        Kind::Null => "null",
                        Kind::Bool(_) => "boolean",
                        Kind::Number => "number",
                        Kind::Str(_) => "string",
                        Kind::Array(_) => "array",
                        Kind::Object(_) => "object",
                    });
                }
                Arc::new(out.finish())
            }
            Op::ArrayLength => {
                let docs = text_array(&args.args[0], n)?;
                let mut out = Int32Builder::new();
                for row in 0..n {
                    if docs.is_null(row) {
                        out.append_null();
                        continue;
                    }
                    match parse(docs.value(row))?.kind {
                        Kind::Array(items) => out.append_value(items.len() as i32),
                        Kind::Object(_) => {
                            return Err(pg_error("cannot get array length of a non-array"))
                        }
                        _ => return Err(pg_error("cannot get array length of a scalar")),
                    }
                }
                Arc::new(out.finish())
            }
            Op::Input { jsonb: to_jsonb } => {
                let docs = text_array(&args.args[0], n)?;
                let mut out = StringBuilder::new();
                for row in 0..n {
                    if docs.is_null(row) {
                        out.append_null();
                        continue;
                    }
                    let doc = docs.value(row);
                    let root = parse(doc)?;
                    out.append_value(if to_jsonb {
                        text_of(doc, &root, true)
                    } else {
                        doc.to_string()
                    });
                }
                Arc::new(out.finish())
            }
            Op::BuildArray { jsonb: to_jsonb } | Op::ToJson { jsonb: to_jsonb } => {
                let arrays = args
                    .args
                    .iter()
                    .map(|a| a.to_array(n))
                    .collect::<Result<Vec<_>>>()?;
                let mut out = StringBuilder::new();
                for row in 0..n {
                    let items = arrays
                        .iter()
                        .zip(&args.arg_fields)
                        .map(|(a, f)| element(a, f, row, to_jsonb))
                        .collect::<Result<Vec<_>>>()?;
                    if matches!(self.op, Op::ToJson { .. }) {
                        if arrays[0].logical_nulls().is_some_and(|n| n.is_null(row)) {
                            out.append_null();
                        } else {
                            out.append_value(&items[0]);
                        }
                    } else {
                        out.append_value(format!("[{}]", items.join(", ")));
                    }
                }
                Arc::new(out.finish())
            }
            Op::ListToJson { jsonb: to_jsonb } => {
                let lists = args.args[0].to_array(n)?;
                let lists = lists.as_list::<i32>();
                let DataType::List(item) = args.arg_fields[0].data_type() else {
                    return Err(DataFusionError::Internal("json_agg of a non-list".into()));
                };
                let mut out = StringBuilder::new();
                for row in 0..n {
                    if lists.is_null(row) {
                        out.append_null();
                        continue;
                    }
                    let values = lists.value(row);
                    let items = (0..values.len())
                        .map(|i| element(&values, item, i, to_jsonb))
                        .collect::<Result<Vec<_>>>()?;
                    out.append_value(format!("[{}]", items.join(", ")));
                }
                Arc::new(out.finish())
            }
            Op::RowToJson => {
                let rows = args.args[0].to_array(n)?;
                let Some(rows) = rows.as_struct_opt() else {
                    return Err(DataFusionError::External(Box::new(
                        crate::EngineError::new(
                            crate::error::sqlstate::FEATURE_NOT_SUPPORTED,
                            "row_to_json takes a ROW(…) value",
                        ),
                    )));
                };
                let fields = rows.fields().clone();
                let mut out = StringBuilder::new();
                for row in 0..n {
                    if rows.is_null(row) {
                        out.append_null();
                        continue;
                    }
                    let mut text = String::from("{");
                    for (i, (field, column)) in fields.iter().zip(rows.columns()).enumerate() {
                        if i > 0 {
                            text.push(',');
                        }
                        // An anonymous ROW's fields are f1, f2, … in PostgreSQL.
                        let name = match field.name().strip_prefix('c').map(str::parse::<usize>) {
                            Some(Ok(k)) => format!("f{}", k + 1),
                            _ => field.name().clone(),
                        };
                        text.push_str(&quoted(&name));
                        text.push(':');
                        text.push_str(&element(column, field, row, false)?);
                    }
                    text.push('}');
                    out.append_value(text);
                }
                Arc::new(out.finish())
            }
        };
        Ok(ColumnarValue::Array(array))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

fn pg_error(message: &str) -> DataFusionError {
    DataFusionError::External(Box::new(crate::EngineError::new(
        crate::error::sqlstate::INVALID_PARAMETER_VALUE,
        message,
    )))
}

/// One step of `->` (`path`: of `#>`, where a key indexes an array when it
/// is a number).
fn step<'n>(node: &'n Node, key: &ScalarValue, path: bool) -> Option<&'n Node> {
    let index = |items: &'n [Node], i: i64| {
        let i = if i < 0 { items.len() as i64 + i } else { i };
        usize::try_from(i).ok().and_then(|i| items.get(i))
    };
    match (&node.kind, key) {
        (_, k) if k.is_null() => None,
        (Kind::Object(items), ScalarValue::Utf8(Some(k)) | ScalarValue::Utf8View(Some(k))) => {
            // (The last of a repeated key, as both types read it.)
            items
                .iter()
                .rev()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v)
        }
        (Kind::Array(items), ScalarValue::Utf8(Some(k)) | ScalarValue::Utf8View(Some(k)))
            if path =>
        {
            index(items, k.trim().parse().ok()?)
        }
        (Kind::Array(items), k) if !path => match k.cast_to(&DataType::Int64).ok()? {
            ScalarValue::Int64(Some(i)) if k.data_type().is_integer() => index(items, i),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `a` contains `b`, as jsonb's `@>` reads it.
fn contains(da: &str, a: &Node, db: &str, b: &Node, top: bool) -> bool {
    match (&a.kind, &b.kind) {
        (Kind::Object(_), Kind::Object(_)) => object_entries(b).into_iter().all(|(k, vb)| {
            object_entries(a)
                .into_iter()
                .find(|(ka, _)| *ka == k)
                .is_some_and(|(_, va)| contains(da, va, db, vb, false))
        }),
        (Kind::Array(xs), Kind::Array(ys)) => ys.iter().all(|y| {
            xs.iter().any(|x| {
                // Inside arrays, scalars match scalars and containers
                // containers.
                let scalar = |n: &Node| !matches!(n.kind, Kind::Array(_) | Kind::Object(_));
                (scalar(x) == scalar(y)) && contains(da, x, db, y, false)
            })
        }),
        // A top-level array contains a scalar that is one of its elements.
        (Kind::Array(xs), _) if top && !matches!(b.kind, Kind::Object(_)) => xs.iter().any(|x| {
            !matches!(x.kind, Kind::Array(_) | Kind::Object(_)) && contains(da, x, db, b, false)
        }),
        (Kind::Null, Kind::Null) => true,
        (Kind::Bool(x), Kind::Bool(y)) => x == y,
        (Kind::Str(x), Kind::Str(y)) => x == y,
        (Kind::Number, Kind::Number) => {
            use std::str::FromStr;
            let num = |d: &str, n: &Node| bigdecimal::BigDecimal::from_str(&d[n.start..n.end]).ok();
            num(da, a).is_some() && num(da, a) == num(db, b)
        }
        _ => false,
    }
}

/// One SQL value as a JSON element: json and jsonb values as they are,
/// others as `to_json` writes them.
fn element(array: &ArrayRef, field: &Field, row: usize, jsonb: bool) -> Result<String> {
    // (A NULL literal's array has no validity buffer: its nulls are logical.)
    if array.logical_nulls().is_some_and(|n| n.is_null(row)) {
        return Ok("null".into());
    }
    let v = ScalarValue::try_from_array(array, row)?;
    if is_json(field) {
        let text = match &v {
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)) => s.clone(),
            other => other.to_string(),
        };
        let node = parse(&text)?;
        return Ok(text_of(&text, &node, jsonb || is_jsonb(field)));
    }
    match &v {
        ScalarValue::Boolean(Some(b)) => Ok(b.to_string()),
        ScalarValue::Int8(_)
        | ScalarValue::Int16(_)
        | ScalarValue::Int32(_)
        | ScalarValue::Int64(_)
        | ScalarValue::Decimal128(..) => Ok(v.to_string()),
        ScalarValue::Utf8(Some(s))
        | ScalarValue::Utf8View(Some(s))
        | ScalarValue::LargeUtf8(Some(s)) => Ok(quoted(s)),
        ScalarValue::Date32(_) => Ok(quoted(&v.to_string())),
        other => Err(DataFusionError::External(Box::new(
            crate::EngineError::new(
                crate::error::sqlstate::FEATURE_NOT_SUPPORTED,
                format!(
                    "{} values in JSON are not supported (cast them to text or numeric)",
                    other.data_type()
                ),
            ),
        ))),
    }
}

// ---------------------------------------------------------------- planning

/// Plans the JSON operators over text (DataFusion has none of them and
/// would fail), ahead of DataFusion's planners; `@>` and `<@` of arrays
/// stay DataFusion's.
#[derive(Debug)]
pub(crate) struct JsonPlanner;

impl ExprPlanner for JsonPlanner {
    fn plan_binary_op(
        &self,
        expr: RawBinaryExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawBinaryExpr>> {
        let is_text = |e: &Expr| {
            e.get_type(schema).is_ok_and(|t| {
                matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
            })
        };
        let udf = match expr.op {
            BinaryOperator::Arrow => &OPERATORS[0],
            BinaryOperator::LongArrow => &OPERATORS[1],
            BinaryOperator::HashArrow => &OPERATORS[2],
            BinaryOperator::HashLongArrow => &OPERATORS[3],
            BinaryOperator::Question => &OPERATORS[4],
            BinaryOperator::AtArrow if is_text(&expr.right) => &OPERATORS[5],
            BinaryOperator::ArrowAt if is_text(&expr.right) => &OPERATORS[6],
            _ => return Ok(PlannerResult::Original(expr)),
        };
        if !is_text(&expr.left) {
            return Ok(PlannerResult::Original(expr));
        }
        let mut args = vec![expr.left];
        if matches!(
            expr.op,
            BinaryOperator::HashArrow | BinaryOperator::HashLongArrow
        ) {
            // A path is a text array's literal: `'{a,1}'`.
            let mut right = &expr.right;
            while let Expr::Cast(c) = right {
                right = c.expr.as_ref();
            }
            let Expr::Literal(ScalarValue::Utf8(Some(path)), _) = right else {
                return Err(DataFusionError::External(Box::new(
                    crate::EngineError::new(
                        crate::error::sqlstate::FEATURE_NOT_SUPPORTED,
                        "a JSON path must be a constant ('{a,1}')",
                    ),
                )));
            };
            let inner = path
                .trim()
                .strip_prefix('{')
                .and_then(|p| p.strip_suffix('}'))
                .ok_or_else(|| {
                    DataFusionError::External(Box::new(crate::EngineError::new(
                        crate::error::sqlstate::INVALID_TEXT_REPRESENTATION,
                        format!("malformed array literal: \"{path}\""),
                    )))
                })?;
            for part in inner.split(',').filter(|p| !p.trim().is_empty()) {
                let part = part.trim().trim_matches('"').to_string();
                args.push(Expr::Literal(ScalarValue::Utf8(Some(part)), None));
            }
        } else {
            args.push(expr.right);
        }
        Ok(PlannerResult::Planned(Expr::ScalarFunction(
            ScalarFunction::new_udf(Arc::clone(udf), args),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalised(s: &str) -> String {
        text_of(s, &parse(s).unwrap(), true)
    }

    #[test]
    fn jsonb_text_is_postgres_normal_form() {
        // As PostgreSQL 15 prints these jsonb values.
        assert_eq!(
            normalised(r#"{"b":1,  "a":[1,2.50,1e2], "aa":null, "b":"x"}"#),
            r#"{"a": [1, 2.50, 100], "b": "x", "aa": null}"#
        );
        assert_eq!(normalised(r#""a\u00e9\n""#), "\"aé\\n\"");
        assert!(parse("{\"a\":}").is_err());
        assert!(parse("[1,]").is_err());
        assert!(parse("01").is_err());
    }

    #[test]
    fn containment_follows_jsonb() {
        let c = |a: &str, b: &str| contains(a, &parse(a).unwrap(), b, &parse(b).unwrap(), true);
        assert!(c(r#"{"a":1,"b":[1,2]}"#, r#"{"b":[2]}"#));
        assert!(c("[1,2,[3]]", "[[3]]"));
        assert!(!c("[1,2,[3]]", "[3]"));
        assert!(c("[1,2]", "1"));
        assert!(c("1.0", "1"));
        assert!(!c(r#"{"a":1}"#, r#"{"a":1,"b":2}"#));
    }
}
