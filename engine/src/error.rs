use datafusion::arrow::error::ArrowError;
use datafusion::error::DataFusionError;
use std::fmt;

/// Result type of the engine.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// An error with the PostgreSQL SQLSTATE a client should see for it, so every
/// front end reports the same condition the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineError {
    /// Five-character SQLSTATE.
    pub code: &'static str,
    /// Message for the user; never contains values from rows they may not see.
    pub message: String,
}

/// SQLSTATE codes the engine raises.
pub mod sqlstate {
    /// syntax_error
    pub const SYNTAX_ERROR: &str = "42601";
    /// undefined_table
    pub const UNDEFINED_TABLE: &str = "42P01";
    /// undefined_column
    pub const UNDEFINED_COLUMN: &str = "42703";
    /// ambiguous_column
    pub const AMBIGUOUS_COLUMN: &str = "42702";
    /// undefined_function
    pub const UNDEFINED_FUNCTION: &str = "42883";
    /// insufficient_privilege
    pub const INSUFFICIENT_PRIVILEGE: &str = "42501";
    /// feature_not_supported
    pub const FEATURE_NOT_SUPPORTED: &str = "0A000";
    /// division_by_zero
    pub const DIVISION_BY_ZERO: &str = "22012";
    /// invalid_text_representation (failed casts)
    pub const INVALID_TEXT_REPRESENTATION: &str = "22P02";
    /// invalid_argument_for_logarithm
    pub const INVALID_ARGUMENT_FOR_LOG: &str = "2201E";
    /// numeric_value_out_of_range
    pub const NUMERIC_VALUE_OUT_OF_RANGE: &str = "22003";
    /// query_canceled (cancel request or statement_timeout)
    pub const QUERY_CANCELED: &str = "57014";
    /// out_of_memory / resource limits
    pub const OUT_OF_MEMORY: &str = "53200";
    /// program_limit_exceeded (a result over the user's `max_result_rows`)
    pub const PROGRAM_LIMIT_EXCEEDED: &str = "54000";
    /// invalid_parameter_value (bad SET)
    pub const INVALID_PARAMETER_VALUE: &str = "22023";
    /// undefined_object (unknown setting)
    pub const UNDEFINED_OBJECT: &str = "42704";
    /// cannot_coerce (a cast PostgreSQL has not, e.g. boolean to bigint)
    pub const CANNOT_COERCE: &str = "42846";
    /// datatype_mismatch
    pub const DATATYPE_MISMATCH: &str = "42804";
    /// undefined_file (a dataset's files are missing)
    pub const UNDEFINED_FILE: &str = "58P01";
    /// cardinality_violation (a scalar subquery of more than one row)
    pub const CARDINALITY_VIOLATION: &str = "21000";
    /// internal_error
    pub const INTERNAL_ERROR: &str = "XX000";
    /// data_exception
    pub const DATA_EXCEPTION: &str = "22000";
    /// undefined_file / unreadable data
    pub const IO_ERROR: &str = "58030";
    /// invalid_datetime_format (text that is not a date or timestamp)
    pub const INVALID_DATETIME_FORMAT: &str = "22007";
    /// A statement inside a transaction block that an earlier error failed.
    pub const IN_FAILED_SQL_TRANSACTION: &str = "25P02";
    /// data_corrupted: a file zhenjie wrote no longer reads back.
    pub const DATA_CORRUPTED: &str = "XX001";
}

impl EngineError {
    /// An error with an explicit SQLSTATE.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        EngineError {
            code,
            message: message.into(),
        }
    }

    /// The principal may not do this.
    pub fn denied(message: impl Into<String>) -> Self {
        Self::new(sqlstate::INSUFFICIENT_PRIVILEGE, message)
    }

    /// The statement was cancelled by request or by `statement_timeout`.
    pub fn canceled(reason: &str) -> Self {
        Self::new(
            sqlstate::QUERY_CANCELED,
            format!("canceling statement due to {reason}"),
        )
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (SQLSTATE {})", self.message, self.code)
    }
}

impl std::error::Error for EngineError {}

impl From<DataFusionError> for EngineError {
    fn from(e: DataFusionError) -> Self {
        classify(&e)
    }
}

impl From<ArrowError> for EngineError {
    fn from(e: ArrowError) -> Self {
        classify(&DataFusionError::ArrowError(Box::new(e), None))
    }
}

impl From<datafusion::sql::sqlparser::parser::ParserError> for EngineError {
    fn from(e: datafusion::sql::sqlparser::parser::ParserError) -> Self {
        use datafusion::sql::sqlparser::parser::ParserError;
        // The parser's own nesting limit: PostgreSQL's answer to a statement
        // its stack cannot hold.
        if matches!(e, ParserError::RecursionLimitExceeded) {
            return crate::session::depth::too_deep();
        }
        EngineError::new(sqlstate::SYNTAX_ERROR, e.to_string())
    }
}

/// Maps a DataFusion error to the SQLSTATE PostgreSQL would use for the same
/// condition. Unknown conditions are internal errors, never silence.
fn classify(e: &DataFusionError) -> EngineError {
    use sqlstate::*;
    let root = e.find_root();
    if let DataFusionError::External(inner) = root {
        if let Some(engine_error) = inner.downcast_ref::<EngineError>() {
            return engine_error.clone();
        }
    }
    let text = root.to_string();
    let message = clean_message(&text);
    if let Some(e) = invalid_input(&message) {
        return e;
    }
    if message.contains("Scalar subquery returned more than one row") {
        return EngineError::new(
            CARDINALITY_VIOLATION,
            "more than one row returned by a subquery used as an expression",
        );
    }
    let code = match root {
        DataFusionError::SQL(..) => SYNTAX_ERROR,
        DataFusionError::SchemaError(se, _) => match se.as_ref() {
            datafusion::common::SchemaError::FieldNotFound { .. } => UNDEFINED_COLUMN,
            _ => UNDEFINED_COLUMN,
        },
        DataFusionError::ResourcesExhausted(_) => OUT_OF_MEMORY,
        DataFusionError::NotImplemented(_) => FEATURE_NOT_SUPPORTED,
        DataFusionError::ArrowError(ae, _) => match ae.as_ref() {
            ArrowError::DivideByZero => DIVISION_BY_ZERO,
            ArrowError::CastError(_) | ArrowError::ParseError(_) => INVALID_TEXT_REPRESENTATION,
            ArrowError::ArithmeticOverflow(_) => NUMERIC_VALUE_OUT_OF_RANGE,
            ArrowError::ComputeError(m) if m.contains("Overflow") || m.contains("overflow") => {
                NUMERIC_VALUE_OUT_OF_RANGE
            }
            ArrowError::IoError(..) | ArrowError::ParquetError(_) => IO_ERROR,
            _ => DATA_EXCEPTION,
        },
        DataFusionError::ParquetError(_)
        | DataFusionError::IoError(_)
        | DataFusionError::ObjectStore(_) => IO_ERROR,
        DataFusionError::Plan(m) | DataFusionError::Internal(m)
            if m.contains("No function matches") || m.contains("failed to match any signature") =>
        {
            UNDEFINED_FUNCTION
        }
        DataFusionError::Plan(m) => {
            if m.contains("table") && m.contains("not found") {
                UNDEFINED_TABLE
            } else if m.contains("Invalid function")
                || m.contains("function") && m.contains("not found")
            {
                UNDEFINED_FUNCTION
            } else if m.contains("No field named") {
                UNDEFINED_COLUMN
            } else if m.contains("Cannot infer common")
                || m.contains("type") && m.contains("coercion")
            {
                DATATYPE_MISMATCH
            } else {
                SYNTAX_ERROR
            }
        }
        // A cluster job's failure arrives as the text of the executor's
        // error (`DivideByZero`, `ResourcesExhausted(…)`), read back here.
        DataFusionError::Execution(m) => {
            if m.contains("Divide by zero")
                || m.contains("division by zero")
                || m.contains("DivideByZero")
            {
                DIVISION_BY_ZERO
            } else if m.contains("ResourcesExhausted") || m.contains("Resources exhausted") {
                OUT_OF_MEMORY
            } else if m.contains("Cannot cast")
                || m.contains("cast")
                || m.contains("CastError")
                || m.contains("ParseError")
            {
                INVALID_TEXT_REPRESENTATION
            } else if m.contains("overflow") || m.contains("ArithmeticOverflow") {
                NUMERIC_VALUE_OUT_OF_RANGE
            } else {
                DATA_EXCEPTION
            }
        }
        _ => INTERNAL_ERROR,
    };
    // PostgreSQL's wording where clients and people look for it.
    let message = if code == DIVISION_BY_ZERO {
        "division by zero".to_string()
    } else {
        message
    };
    EngineError::new(code, message)
}

/// A failed cast in PostgreSQL's words and SQLSTATE: text that does not read
/// as the type (`invalid input syntax for type integer: "abc"`, 22P02; 22007
/// for dates and timestamps), or a value out of an integer type's range
/// (22003; for an int8 result narrowed to int4, PostgreSQL's `integer out of
/// range`, without the value).
fn invalid_input(message: &str) -> Option<EngineError> {
    use sqlstate::*;
    let pg_type = |arrow: &str| -> Option<&'static str> {
        Some(match arrow {
            "Int16" => "smallint",
            "Int32" => "integer",
            "Int64" => "bigint",
            "Float32" => "real",
            "Float64" => "double precision",
            "Boolean" => "boolean",
            "Date32" | "Date64" => "date",
            t if t.starts_with("Decimal") => "numeric",
            t if t.starts_with("Timestamp") => "timestamp",
            _ => return None,
        })
    };
    let integer = |pg: &str| matches!(pg, "smallint" | "integer" | "bigint");
    if let Some(rest) = message.strip_prefix("Cast error: Can't cast value ") {
        let pg = pg_type(rest.rsplit_once(" to type ")?.1).filter(|pg| integer(pg))?;
        return Some(EngineError::new(
            NUMERIC_VALUE_OUT_OF_RANGE,
            format!("{pg} out of range"),
        ));
    }
    let (value, pg) = if let Some(rest) = message
        .strip_prefix("Cast error: Cannot cast string '")
        .or_else(|| message.strip_prefix("Cast error: Cannot cast value '"))
    {
        let (value, rest) = rest.split_once("' to value of ")?;
        (value, pg_type(rest.strip_suffix(" type")?)?)
    } else if let Some(rest) = message.strip_prefix("Parser error: Error parsing timestamp from '")
    {
        (rest.split_once("':")?.0, "timestamp")
    } else {
        return None;
    };
    let digits = value.trim_start_matches(['-', '+']);
    if integer(pg) && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Some(EngineError::new(
            NUMERIC_VALUE_OUT_OF_RANGE,
            format!("value \"{value}\" is out of range for type {pg}"),
        ));
    }
    let code = if matches!(pg, "date" | "timestamp") {
        INVALID_DATETIME_FORMAT
    } else {
        INVALID_TEXT_REPRESENTATION
    };
    Some(EngineError::new(
        code,
        format!("invalid input syntax for type {pg}: \"{value}\""),
    ))
}

/// DataFusion prefixes messages with its error kind ("Error during planning: …");
/// clients expect PostgreSQL-like sentences.
fn clean_message(text: &str) -> String {
    const PREFIXES: [&str; 9] = [
        "Internal error: ",
        "Error during planning: ",
        "Execution error: ",
        "Arrow error: ",
        "SQL error: ",
        "Schema error: ",
        "This feature is not implemented: ",
        "Resources exhausted: ",
        "Invalid argument error: ",
    ];
    // DataFusion's plea to report its own bugs is noise for a SQL user.
    let text = match text.find("This issue was likely caused by a bug in DataFusion") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut s = text.trim();
    loop {
        let before = s;
        for p in PREFIXES {
            if let Some(rest) = s.strip_prefix(p) {
                s = rest.trim();
            }
        }
        if s == before {
            break;
        }
    }
    s.to_string()
}
