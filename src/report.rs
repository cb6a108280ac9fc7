//! `zhenjie report`: a catalog's report template rendered as one user, for
//! their area or one area inside it, to CSV or XLSX.

use std::path::PathBuf;
use zhenjie_catalog::Catalog;

/// What `zhenjie report` is asked.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// The template to render.
    #[arg(required_unless_present = "list")]
    pub name: Option<String>,
    /// List the templates with their descriptions instead.
    #[arg(long)]
    pub list: bool,
    /// The catalog file.
    #[arg(long, default_value = "data/demo/catalog.toml")]
    pub catalog: PathBuf,
    /// The user to render as: their fence and masks apply.
    #[arg(long = "as", value_name = "USER", required_unless_present = "list")]
    pub user: Option<String>,
    /// One area inside the user's, by its 12-digit code.
    #[arg(long)]
    pub area: Option<String>,
    /// csv or xlsx.
    #[arg(long, default_value = "xlsx")]
    pub format: String,
    /// The file to write (default: NAME.FORMAT).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: &ReportArgs) -> Result<(), String> {
    let catalog = Catalog::load(&args.catalog).map_err(|e| e.to_string())?;
    if args.list {
        for r in &catalog.file.reports {
            println!("{:32} {}  {}", r.name, r.title, r.description);
        }
        return Ok(());
    }
    let name = args.name.as_deref().unwrap_or_default();
    let template = catalog
        .file
        .reports
        .iter()
        .find(|r| r.name == name)
        .cloned()
        .ok_or_else(|| zhenjie_reports::ReportError::Unknown(name.to_string()).to_string())?;
    let format = args.format.as_str();
    if !matches!(format, "csv" | "xlsx") {
        return Err(format!("--format must be csv or xlsx, not {format}"));
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{name}.{format}")));
    crate::runtime()?.block_on(async {
        let user = args.user.as_deref().unwrap_or_default();
        let session = crate::session_as(catalog, user).await?;
        let rendered = zhenjie_reports::render(&session, &template, args.area.as_deref())
            .await
            .map_err(|e| e.to_string())?;
        match format {
            "csv" => {
                let mut f =
                    std::fs::File::create(&out).map_err(|e| format!("{}: {e}", out.display()))?;
                zhenjie_reports::write_csv(&rendered, &mut f, &out.display().to_string())
            }
            _ => zhenjie_reports::write_xlsx(&rendered, &out),
        }
        .map_err(|e| e.to_string())?;
        eprintln!(
            "{}（{}）: {} rows written to {}",
            rendered.title,
            rendered.area,
            rendered.rows.len(),
            out.display()
        );
        Ok(())
    })
}
