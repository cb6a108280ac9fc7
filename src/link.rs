//! `zhenjie link`: `SELECT * FROM link_persons(…)` run as one user through
//! the embedded engine, written to Parquet, with a progress bar for the long
//! batch runs (a million-row list against the whole register).

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use zhenjie_catalog::Catalog;
use zhenjie_engine::Output;

/// What `zhenjie link` is asked.
#[derive(clap::Args)]
pub struct LinkArgs {
    /// The catalog file.
    #[arg(long, default_value = "data/demo/catalog.toml")]
    pub catalog: PathBuf,
    /// The user to link as: their fence and masks apply.
    #[arg(long = "as", value_name = "USER")]
    pub user: String,
    /// The list dataset.
    #[arg(long)]
    pub list: String,
    /// The register dataset.
    #[arg(long, default_value = "persons")]
    pub register: String,
    /// Probability from which a match is accepted.
    #[arg(long, default_value_t = 0.99)]
    pub accept: f64,
    /// Probability from which a match goes to clerical review.
    #[arg(long, default_value_t = 0.5)]
    pub review: f64,
    /// The Parquet file to write.
    #[arg(long)]
    pub out: PathBuf,
}

/// Quotes a dataset name as an SQL string literal.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

pub fn run(args: &LinkArgs) -> Result<(), String> {
    let catalog = Catalog::load(&args.catalog).map_err(|e| e.to_string())?;
    crate::runtime()?.block_on(async {
        let session = crate::session_as(catalog, &args.user).await?;
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar.set_message(format!(
            "比对 linking {} against {} as {}",
            args.list, args.register, args.user
        ));
        let start = Instant::now();
        let sql = format!(
            "SELECT * FROM link_persons({}, {}, {}, {})",
            literal(&args.list),
            literal(&args.register),
            args.accept,
            args.review
        );
        let mut outputs = session.sql(&sql).await.map_err(|e| e.message)?;
        let Some(Output::Rows(mut rows)) = outputs.pop() else {
            return Err("link_persons returned no rows".into());
        };
        let tmp = args.out.with_extension("parquet.tmp");
        let file = std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        let mut writer =
            datafusion::parquet::arrow::ArrowWriter::try_new(file, rows.schema.clone(), None)
                .map_err(|e| e.to_string())?;
        let (mut written, mut accepted) = (0usize, 0usize);
        while let Some(batch) = rows.stream.next().await {
            let batch = batch.map_err(|e| e.to_string())?;
            if let Some(band) = batch.column_by_name("match_band").and_then(|c| {
                c.as_any()
                    .downcast_ref::<datafusion::arrow::array::StringArray>()
            }) {
                accepted += band.iter().filter(|b| *b == Some("accept")).count();
            }
            written += batch.num_rows();
            writer.write(&batch).map_err(|e| e.to_string())?;
            bar.set_message(format!("写出 writing {written} rows"));
        }
        writer.close().map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, &args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
        bar.finish_and_clear();
        eprintln!(
            "{written} rows ({accepted} accepted) written to {} in {:.1} s",
            args.out.display(),
            start.elapsed().as_secs_f64()
        );
        Ok(())
    })
}
