//! Generates a demo city and prints how long it took and how many rows each
//! dataset got: `cargo run --release -p zhenjie-demo --example city -- OUT [PERSONS] [SEED]`
//! (set `SHOW=1` to also print the first rows of every dataset).

use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
use std::time::Instant;
use zhenjie_demo::{generate, DemoOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args.next().ok_or("usage: city OUT [PERSONS] [SEED]")?;
    let persons = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let seed = args.next().map(|s| s.parse()).transpose()?.unwrap_or(42);
    let start = Instant::now();
    let catalog = generate(
        out.as_ref(),
        &DemoOptions {
            persons,
            seed,
            ..Default::default()
        },
        true,
    )?;
    eprintln!("{persons} persons in {:.2?}", start.elapsed());
    for d in &catalog.file.datasets {
        let path = catalog.resolve_location(&d.location);
        let reader = SerializedFileReader::new(std::fs::File::open(&path)?)?;
        let meta = reader.metadata();
        let rows: i64 = meta.row_groups().iter().map(|r| r.num_rows()).sum();
        let bytes = std::fs::metadata(&path)?.len();
        println!(
            "{:<24} {:>10} rows {:>4} row groups {:>8} KiB",
            d.name,
            rows,
            meta.num_row_groups(),
            bytes / 1024
        );
        if std::env::var_os("SHOW").is_some() {
            let file = std::fs::File::open(&path)?;
            let mut rows =
                datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                    file,
                )?
                .with_batch_size(4)
                .build()?;
            if let Some(batch) = rows.next() {
                println!(
                    "{}",
                    datafusion::arrow::util::pretty::pretty_format_batches(&[batch?])?
                );
            }
        }
    }
    Ok(())
}
