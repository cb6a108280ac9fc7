//! `COPY (query) TO STDOUT` and `COPY table TO STDOUT`: the export path of
//! psql's `\copy`, psycopg's `cursor.copy()` and ETL tools. The rows come from
//! an ordinary governed query (fence, masks and audit apply as to any SELECT);
//! this module only reads the statement's target and options. Encoding the
//! rows is the front end's business. `COPY … FROM` and `COPY … TO 'file'` are
//! refused: zhenjie is read-only and never writes the server's disk.

use crate::{EngineError, Result};
use datafusion::sql::sqlparser::ast::{
    self, CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget,
};

/// The three formats of PostgreSQL's COPY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyFormat {
    /// Tab-separated, `\N` for NULL, backslash escapes.
    Text,
    /// RFC 4180-style CSV.
    Csv,
    /// PGCOPY binary: the types' binary send formats.
    Binary,
}

/// How a `COPY … TO STDOUT` wants its rows written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOptions {
    /// Text, CSV or binary.
    pub format: CopyFormat,
    /// A first line naming the columns (text and CSV).
    pub header: bool,
    /// Field separator; `None`: the format's default (tab, comma).
    pub delimiter: Option<char>,
    /// How NULL is written; `None`: the format's default (`\N`, empty).
    pub null: Option<String>,
    /// CSV quote character; `None`: `"`.
    pub quote: Option<char>,
    /// CSV escape character; `None`: the quote character.
    pub escape: Option<char>,
}

/// Reads a COPY statement into the query whose rows it exports and the
/// options to write them with. Anything but `TO STDOUT` is refused.
pub(crate) fn copy_to_stdout(statement: &ast::Statement) -> Result<(ast::Query, CopyOptions)> {
    let ast::Statement::Copy {
        source,
        to,
        target,
        options,
        legacy_options,
        ..
    } = statement
    else {
        return Err(EngineError::new(
            crate::sqlstate::INTERNAL_ERROR,
            "not a COPY statement",
        ));
    };
    if !to {
        return Err(EngineError::denied(
            "permission denied: COPY FROM is not allowed; zhenjie is read-only",
        ));
    }
    if !matches!(target, CopyTarget::Stdout) {
        return Err(EngineError::denied(
            "permission denied: COPY can only write to STDOUT (use psql's \\copy to write a client-side file)",
        ));
    }
    let query = match source {
        CopySource::Query(q) => (**q).clone(),
        CopySource::Table {
            table_name,
            columns,
        } => {
            let cols = if columns.is_empty() {
                "*".to_string()
            } else {
                columns
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let sql = format!("SELECT {cols} FROM {table_name}");
            match datafusion::sql::sqlparser::parser::Parser::parse_sql(
                &datafusion::sql::sqlparser::dialect::PostgreSqlDialect {},
                &sql,
            )?
            .pop()
            {
                Some(ast::Statement::Query(q)) => *q,
                _ => {
                    return Err(EngineError::new(
                        crate::sqlstate::SYNTAX_ERROR,
                        "COPY source is not a table",
                    ))
                }
            }
        }
    };
    let mut out = CopyOptions {
        format: CopyFormat::Text,
        header: false,
        delimiter: None,
        null: None,
        quote: None,
        escape: None,
    };
    for option in options {
        match option {
            CopyOption::Format(name) => {
                out.format = match name.value.to_ascii_lowercase().as_str() {
                    "text" => CopyFormat::Text,
                    "csv" => CopyFormat::Csv,
                    "binary" => CopyFormat::Binary,
                    other => {
                        return Err(EngineError::new(
                            crate::sqlstate::INVALID_PARAMETER_VALUE,
                            format!("COPY format \"{other}\" not recognized"),
                        ))
                    }
                }
            }
            CopyOption::Header(h) => out.header = *h,
            CopyOption::Delimiter(c) => out.delimiter = Some(*c),
            CopyOption::Null(s) => out.null = Some(s.clone()),
            CopyOption::Quote(c) => out.quote = Some(*c),
            CopyOption::Escape(c) => out.escape = Some(*c),
            // Options that only matter when reading, or change nothing here.
            CopyOption::Freeze(_)
            | CopyOption::ForceNotNull(_)
            | CopyOption::ForceNull(_)
            | CopyOption::Encoding(_) => {}
            other => return Err(unsupported(other)),
        }
    }
    for option in legacy_options {
        match option {
            CopyLegacyOption::Binary => out.format = CopyFormat::Binary,
            CopyLegacyOption::Delimiter(c) => out.delimiter = Some(*c),
            CopyLegacyOption::Null(s) => out.null = Some(s.clone()),
            CopyLegacyOption::Header => out.header = true,
            CopyLegacyOption::Csv(csv) => {
                out.format = CopyFormat::Csv;
                for o in csv {
                    match o {
                        CopyLegacyCsvOption::Header => out.header = true,
                        CopyLegacyCsvOption::Quote(c) => out.quote = Some(*c),
                        CopyLegacyCsvOption::Escape(c) => out.escape = Some(*c),
                        CopyLegacyCsvOption::ForceNotNull(_) => {}
                        other => return Err(unsupported(other)),
                    }
                }
            }
            other => return Err(unsupported(other)),
        }
    }
    if out.format == CopyFormat::Binary
        && (out.header || out.delimiter.is_some() || out.null.is_some())
    {
        return Err(EngineError::new(
            crate::sqlstate::SYNTAX_ERROR,
            "cannot specify HEADER, DELIMITER or NULL in BINARY mode",
        ));
    }
    if out.format != CopyFormat::Csv && (out.quote.is_some() || out.escape.is_some()) {
        return Err(EngineError::new(
            crate::sqlstate::FEATURE_NOT_SUPPORTED,
            "COPY QUOTE and ESCAPE are available only in CSV mode",
        ));
    }
    Ok((query, out))
}

fn unsupported(option: &dyn std::fmt::Display) -> EngineError {
    EngineError::new(
        crate::sqlstate::FEATURE_NOT_SUPPORTED,
        format!("COPY option {option} is not supported by zhenjie"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn read(sql: &str) -> Result<(String, CopyOptions)> {
        let st = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .pop()
            .unwrap();
        copy_to_stdout(&st).map(|(q, o)| (q.to_string(), o))
    }

    #[test]
    fn reads_modern_and_legacy_options() {
        let (q, o) =
            read("COPY (SELECT 1 AS a) TO STDOUT WITH (FORMAT csv, HEADER, DELIMITER ';')")
                .unwrap();
        assert_eq!(q, "SELECT 1 AS a");
        assert_eq!(
            (o.format, o.header, o.delimiter),
            (CopyFormat::Csv, true, Some(';'))
        );
        // What psql's `\copy (…) to 'f' with csv header` sends.
        let (_, o) = read("COPY ( SELECT 1 ) TO STDOUT with csv header").unwrap();
        assert_eq!((o.format, o.header), (CopyFormat::Csv, true));
        let (q, o) = read("COPY persons (name, phone) TO STDOUT (FORMAT binary)").unwrap();
        assert_eq!(q, "SELECT name, phone FROM persons");
        assert_eq!(o.format, CopyFormat::Binary);
        let (_, o) = read("COPY persons TO STDOUT").unwrap();
        assert_eq!((o.format, o.header), (CopyFormat::Text, false));
    }

    #[test]
    fn refuses_files_reads_and_contradictions() {
        for sql in [
            "COPY persons TO '/tmp/x.csv'",
            "COPY persons FROM STDIN",
            "COPY persons TO PROGRAM 'cat'",
        ] {
            assert_eq!(
                read(sql).unwrap_err().code,
                crate::sqlstate::INSUFFICIENT_PRIVILEGE,
                "{sql}"
            );
        }
        assert!(read("COPY persons TO STDOUT (FORMAT binary, HEADER)").is_err());
        assert!(read("COPY persons TO STDOUT (FORMAT xml)").is_err());
    }
}
