//! Every function's documented SQL example, run through a real session with
//! `register_all`: the output must be exactly what the documentation shows.

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use zhenjie_udfs::{function_catalog, register_all};

/// The (sql, expected table lines) pairs of a documentation example block.
fn parse_examples(example: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut sql: Option<String> = None;
    for line in example.lines() {
        let line = line.trim_end();
        if let Some(rest) = line.strip_prefix("> ") {
            sql = Some(rest.to_string());
        } else if let Some(s) = sql.as_mut().filter(|s| !s.trim_end().ends_with(';')) {
            s.push('\n');
            s.push_str(line);
            continue;
        } else if line.starts_with('+') || line.starts_with('|') {
            if let Some(last) = out.last_mut() {
                last.1.push(line.to_string());
            }
            continue;
        } else {
            continue;
        }
        if let Some(s) = sql.as_ref().filter(|s| s.trim_end().ends_with(';')) {
            out.push((s.clone(), Vec::new()));
            sql = None;
        }
    }
    out
}

#[tokio::test]
async fn documented_examples_produce_documented_output() {
    let ctx = SessionContext::new();
    register_all(&ctx);
    let mut failures = Vec::new();
    let mut checked = 0;
    let catalog = function_catalog();
    assert!(!catalog.is_empty());
    for f in &catalog {
        let example = f
            .documentation
            .sql_example
            .as_deref()
            .unwrap_or_else(|| panic!("{} has no SQL example", f.name));
        let cases = parse_examples(example);
        if cases.is_empty() || cases.iter().any(|(_, e)| e.is_empty()) {
            failures.push(format!(
                "{}: example has no query with an output table",
                f.name
            ));
            continue;
        }
        for (sql, expected) in cases {
            if !sql.contains(&f.name) {
                failures.push(format!(
                    "{}: example does not call the function: {sql}",
                    f.name
                ));
            }
            let actual = match ctx.sql(&sql).await {
                Ok(df) => match df.collect().await {
                    Ok(batches) => pretty_format_batches(&batches).unwrap().to_string(),
                    Err(e) => format!("error: {e}"),
                },
                Err(e) => format!("error: {e}"),
            };
            checked += 1;
            let actual: Vec<String> = actual.lines().map(|l| l.trim_end().to_string()).collect();
            if actual != expected {
                failures.push(format!(
                    "{}: {sql}\nexpected:\n{}\nactual:\n{}",
                    f.name,
                    expected.join("\n"),
                    actual.join("\n")
                ));
            }
        }
    }
    assert!(
        checked >= catalog.len(),
        "every function has a checked example"
    );
    assert!(
        failures.is_empty(),
        "{} failing examples:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_function_is_documented_with_description_and_syntax() {
    for f in function_catalog() {
        assert!(!f.documentation.description.is_empty(), "{}", f.name);
        assert!(
            f.documentation.syntax_example.starts_with(&f.name),
            "{}",
            f.name
        );
        assert_eq!(f.name, f.name.to_lowercase(), "names are lower snake case");
    }
}
