//! `EXPLAIN` in both of PostgreSQL's spellings, read once.
//!
//! `EXPLAIN ANALYZE VERBOSE q` and `EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) q`
//! mean the same, and which of them a user may run depends on their level
//! (ANALYZE and VERBOSE show row counts and the files' statistics). Both the
//! permission check and the plan handed to DataFusion read the options from
//! here, so they cannot disagree. DataFusion's own planner would ignore the
//! parenthesised options and read the keyword `FORMAT` wrongly; the statement
//! goes to it as its own EXPLAIN, with only these options (never, say,
//! `show_statistics`).

use crate::error::sqlstate;
use crate::{EngineError, Result};
use datafusion::common::format::{ExplainFormat, ExplainStatementOptions};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::sql::parser::{ExplainStatement, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::{self, Statement};
use std::sync::Arc;
use zhenjie_catalog::Level;

/// What an `EXPLAIN` asks for.
#[derive(Debug)]
pub(crate) struct Explain {
    analyze: bool,
    verbose: bool,
    format: Option<ExplainFormat>,
    statement: Box<Statement>,
}

/// PostgreSQL's EXPLAIN options that change nothing here (they tune what
/// PostgreSQL's own plans print), accepted so clients that send them work.
const IGNORED: &[&str] = &[
    "costs",
    "buffers",
    "timing",
    "summary",
    "settings",
    "wal",
    "generic_plan",
    "memory",
    "serialize",
];

fn format_of(name: &str) -> Result<ExplainFormat> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "text" | "traditional" | "indent" => ExplainFormat::Indent,
        "tree" => ExplainFormat::Tree,
        "json" | "pgjson" => ExplainFormat::PostgresJSON,
        "graphviz" => ExplainFormat::Graphviz,
        other => {
            return Err(EngineError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                format!("unrecognized value for EXPLAIN option \"format\": \"{other}\""),
            ))
        }
    })
}

fn flag(option: &ast::UtilityOption) -> Result<bool> {
    let Some(arg) = &option.arg else {
        return Ok(true);
    };
    match arg
        .to_string()
        .trim_matches('\'')
        .to_ascii_lowercase()
        .as_str()
    {
        "true" | "on" | "1" | "yes" => Ok(true),
        "false" | "off" | "0" | "no" => Ok(false),
        _ => Err(EngineError::new(
            sqlstate::INVALID_PARAMETER_VALUE,
            format!(
                "{} requires a Boolean value",
                option.name.value.to_ascii_uppercase()
            ),
        )),
    }
}

impl Explain {
    /// The EXPLAIN `statement` is, if it is one (not `DESCRIBE`); an error
    /// for an option PostgreSQL does not know or a bad value.
    pub(crate) fn of(statement: &Statement) -> Result<Option<Explain>> {
        let Statement::Explain {
            describe_alias: ast::DescribeAlias::Explain,
            analyze,
            verbose,
            format,
            options,
            statement,
            ..
        } = statement
        else {
            return Ok(None);
        };
        let mut explain = Explain {
            analyze: *analyze,
            verbose: *verbose,
            format: match format {
                Some(
                    ast::AnalyzeFormatKind::Keyword(f) | ast::AnalyzeFormatKind::Assignment(f),
                ) => Some(format_of(&f.to_string())?),
                None => None,
            },
            statement: statement.clone(),
        };
        for option in options.iter().flatten() {
            let name = option.name.value.to_ascii_lowercase();
            match name.as_str() {
                "analyze" => explain.analyze = flag(option)?,
                "verbose" => explain.verbose = flag(option)?,
                "format" => {
                    let value = option
                        .arg
                        .as_ref()
                        .map(|a| a.to_string())
                        .unwrap_or_default();
                    explain.format = Some(format_of(value.trim_matches('\''))?);
                }
                n if IGNORED.contains(&n) => {
                    flag(option)?;
                }
                _ => {
                    return Err(EngineError::new(
                        sqlstate::SYNTAX_ERROR,
                        format!("unrecognized EXPLAIN option \"{name}\""),
                    ))
                }
            }
        }
        Ok(Some(explain))
    }

    /// ANALYZE runs the query and counts rows at every node, and prints the
    /// bounds of the join filters it built from the data; VERBOSE prints
    /// every node's statistics, the scans' (whole files': row counts,
    /// smallest and largest values) included. What a principal may not read
    /// in a row they may not read in a plan: both are for the city level, and
    /// only for principals none of whose columns are masked (`masked`: the
    /// session masks some column), since those statistics and bounds are raw
    /// values of every column, masked ones included.
    pub(crate) fn check(&self, level: Level, masked: bool) -> Result<()> {
        let what = match (self.analyze, self.verbose) {
            (true, _) => "EXPLAIN ANALYZE",
            (false, true) => "EXPLAIN VERBOSE",
            (false, false) => return Ok(()),
        };
        if level != Level::City {
            return Err(EngineError::denied(format!(
                "permission denied: {what} is only available at city level"
            )));
        }
        if masked {
            return Err(EngineError::denied(format!(
                "permission denied: {what} shows raw values of masked columns; it needs the roles that unmask them"
            )));
        }
        Ok(())
    }

    /// DataFusion's own EXPLAIN with these options.
    pub(crate) fn to_datafusion(&self) -> DfStatement {
        DfStatement::Explain(ExplainStatement {
            options: ExplainStatementOptions {
                analyze: self.analyze,
                verbose: self.verbose,
                format: self.format.clone(),
                ..Default::default()
            },
            statement: Box::new(DfStatement::Statement(self.statement.clone())),
        })
    }
}

/// `stream` (an EXPLAIN's rows) with the byte ranges of the files it scans
/// taken out: DataFusion splits a large file into ranges for parallel
/// reading and prints them (`persons.parquet:0..52428800`), and their ends
/// are the files' sizes, a rough row count of the whole city. Below city
/// level the fence hides most of those rows, so the plan does not size them.
pub(crate) fn without_file_sizes(stream: SendableRecordBatchStream) -> SendableRecordBatchStream {
    use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
    use futures::StreamExt;
    static RANGE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let range = RANGE.get_or_init(|| regex::Regex::new(r":\d+\.\.\d+").expect("valid"));
    let schema = stream.schema();
    let strip = move |batch: RecordBatch| -> datafusion::error::Result<RecordBatch> {
        let columns = batch
            .columns()
            .iter()
            .map(|c| match c.as_any().downcast_ref::<StringArray>() {
                Some(text) => Arc::new(
                    text.iter()
                        .map(|v| v.map(|v| range.replace_all(v, "").into_owned()))
                        .collect::<StringArray>(),
                ) as ArrayRef,
                None => c.clone(),
            })
            .collect();
        Ok(RecordBatch::try_new(batch.schema(), columns)?)
    };
    Box::pin(RecordBatchStreamAdapter::new(
        schema,
        stream.map(move |b| b.and_then(strip)),
    ))
}

/// `stream` (an EXPLAIN's rows) with one more row, `zhenjie_route`: where
/// the statement would run on an engine with a cluster, and why. Only for
/// EXPLAIN's rows of (plan type, plan) text.
pub(crate) fn with_route(
    stream: SendableRecordBatchStream,
    route: String,
) -> SendableRecordBatchStream {
    use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::DataType;
    use futures::StreamExt;
    let schema = stream.schema();
    let textual = schema.fields().len() == 2
        && schema
            .fields()
            .iter()
            .all(|f| f.data_type() == &DataType::Utf8);
    if !textual {
        return stream;
    }
    let row = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec!["zhenjie_route"])) as ArrayRef,
            Arc::new(StringArray::from(vec![route])) as ArrayRef,
        ],
    )
    .map_err(Into::into);
    Box::pin(RecordBatchStreamAdapter::new(
        schema,
        stream.chain(futures::stream::once(async move { row })),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn explain(sql: &str) -> Result<Option<Explain>> {
        let statement = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0);
        Explain::of(&statement)
    }

    #[test]
    fn both_spellings_are_read_alike_and_checked_alike() {
        for sql in [
            "EXPLAIN ANALYZE SELECT 1",
            "EXPLAIN (ANALYZE) SELECT 1",
            "EXPLAIN (analyze true, costs off) SELECT 1",
            "EXPLAIN VERBOSE SELECT 1",
            "EXPLAIN (VERBOSE on) SELECT 1",
        ] {
            let e = explain(sql).unwrap().unwrap();
            assert!(e.analyze || e.verbose, "{sql}");
            let err = e.check(Level::Town, false).unwrap_err();
            assert_eq!(err.code, sqlstate::INSUFFICIENT_PRIVILEGE, "{sql}");
            let err = e.check(Level::City, true).unwrap_err();
            assert_eq!(err.code, sqlstate::INSUFFICIENT_PRIVILEGE, "{sql}");
            e.check(Level::City, false).unwrap();
        }
        for sql in [
            "EXPLAIN SELECT 1",
            "EXPLAIN (ANALYZE false, VERBOSE off) SELECT 1",
            "EXPLAIN (FORMAT JSON) SELECT 1",
            "EXPLAIN FORMAT TREE SELECT 1",
        ] {
            explain(sql)
                .unwrap()
                .unwrap()
                .check(Level::Grid, true)
                .unwrap();
        }
        let e = explain("EXPLAIN (FORMAT JSON) SELECT 1").unwrap().unwrap();
        assert_eq!(e.format, Some(ExplainFormat::PostgresJSON));
        assert!(explain("DESCRIBE SELECT 1").unwrap().is_none());
        assert!(explain("SELECT 1").unwrap().is_none());
    }

    #[tokio::test]
    async fn file_sizes_leave_the_plan_text() {
        use datafusion::prelude::*;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let rows: String = (0..2_000).map(|i| format!("{i},x{i}\n")).collect();
        std::fs::write(&path, format!("a,b\n{rows}")).unwrap();
        let config = SessionConfig::new()
            .with_target_partitions(4)
            .set_usize("datafusion.optimizer.repartition_file_min_size", 1);
        let ctx = SessionContext::new_with_config(config);
        ctx.register_csv("t", path.to_str().unwrap(), CsvReadOptions::new())
            .await
            .unwrap();
        let text = |batches: Vec<datafusion::arrow::array::RecordBatch>| {
            datafusion::arrow::util::pretty::pretty_format_batches(&batches)
                .unwrap()
                .to_string()
        };
        let plan = || async { ctx.sql("EXPLAIN SELECT count(*) FROM t").await.unwrap() };
        let raw = text(plan().await.collect().await.unwrap());
        let ranges = regex::Regex::new(r"t\.csv:\d+\.\.\d+").unwrap();
        assert!(
            ranges.is_match(&raw),
            "DataFusion prints ranges here:\n{raw}"
        );
        let stream = plan().await.execute_stream().await.unwrap();
        let batches: Vec<_> = futures::StreamExt::collect::<Vec<_>>(without_file_sizes(stream))
            .await
            .into_iter()
            .map(|b| b.unwrap())
            .collect();
        let stripped = text(batches);
        assert!(!ranges.is_match(&stripped), "{stripped}");
        assert!(stripped.contains("t.csv"), "{stripped}");
    }

    #[test]
    fn unknown_options_and_values_are_errors() {
        let err = explain("EXPLAIN (SHOW_STATISTICS) SELECT 1").unwrap_err();
        assert_eq!(err.code, sqlstate::SYNTAX_ERROR);
        let err = explain("EXPLAIN (FORMAT YAML) SELECT 1").unwrap_err();
        assert_eq!(err.code, sqlstate::INVALID_PARAMETER_VALUE);
        let err = explain("EXPLAIN (ANALYZE maybe) SELECT 1").unwrap_err();
        assert_eq!(err.code, sqlstate::INVALID_PARAMETER_VALUE);
    }
}
