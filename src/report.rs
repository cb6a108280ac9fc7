//! `zhenjie report`: a catalog's report template rendered as one user, for
//! their area or one area inside it, to CSV, XLSX, Parquet, GeoJSON or SVG.

use std::path::PathBuf;
use zhenjie_catalog::Catalog;

/// What `zhenjie report` is asked.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// The template to render.
    #[arg(required_unless_present_any = ["list", "each_town"])]
    pub name: Option<String>,
    /// Every template for every town inside the user's area: one workbook
    /// per town, a sheet per template, in --out (a folder).
    #[arg(long, conflicts_with_all = ["name", "area", "format"])]
    pub each_town: bool,
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
    /// csv, xlsx, parquet, or for templates with lng and lat, geojson or svg.
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
    if args.each_town {
        return each_town(args, catalog);
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
    if !matches!(format, "csv" | "xlsx" | "parquet" | "geojson" | "svg") {
        return Err(format!(
            "--format must be csv, xlsx, parquet, geojson or svg, not {format}"
        ));
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
        let shown = out.display().to_string();
        let create = || std::fs::File::create(&out).map_err(|e| format!("{shown}: {e}"));
        match format {
            "csv" => zhenjie_reports::write_csv(&rendered, &mut create()?, &shown),
            "geojson" => zhenjie_reports::write_geojson(&rendered, &mut create()?, &shown),
            "svg" => zhenjie_reports::write_svg(&rendered, &mut create()?, &shown),
            "parquet" => zhenjie_reports::write_parquet(&rendered, &out),
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

/// `--each-town`: every template rendered for every town under the user's
/// area, a workbook per town.
fn each_town(args: &ReportArgs, catalog: zhenjie_catalog::Catalog) -> Result<(), String> {
    use indicatif::{ProgressBar, ProgressStyle};
    let dir = args.out.clone().unwrap_or_else(|| PathBuf::from("reports"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let templates = catalog.file.reports.clone();
    crate::runtime()?.block_on(async {
        let user = args.user.as_deref().unwrap_or_default();
        let session = crate::session_as(catalog, user).await?;
        let prefix = session.principal().area.prefix().to_string();
        let towns: Vec<zhenjie_catalog::Area> = session
            .engine()
            .catalog()
            .areas
            .at_level(zhenjie_catalog::Level::Town)
            .filter(|t| t.prefix().starts_with(&prefix))
            .cloned()
            .collect();
        let bar = ProgressBar::new(towns.len() as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} 生成报表 [{bar:40}] {pos}/{len} 乡镇 {elapsed_precise} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        let started = std::time::Instant::now();
        for town in &towns {
            bar.set_message(town.name.clone());
            // The user narrowed to the town: the same roles and masks, a
            // fence that lets every scan skip the rest of the city.
            let mut narrowed = session.principal().clone();
            narrowed.level = town.level;
            narrowed.area = town.clone();
            let in_town = session
                .engine()
                .session(narrowed)
                .await
                .map_err(|e| e.message)?;
            let mut sheets = Vec::new();
            for t in templates.iter().filter(|t| t.area_column.is_some()) {
                match zhenjie_reports::render(&in_town, t, None).await {
                    Ok(r) => sheets.push(r),
                    // A template this user may not run (a view for higher
                    // levels) is left out of every town's workbook.
                    Err(zhenjie_reports::ReportError::Template { .. }) => {}
                    Err(e) => return Err(e.to_string()),
                }
            }
            let path = dir.join(format!("{}_{}.xlsx", town.code, town.name));
            zhenjie_reports::write_workbook(&sheets, &path).map_err(|e| e.to_string())?;
            bar.inc(1);
        }
        bar.finish_and_clear();
        eprintln!(
            "{} towns written to {} in {:.1} s",
            towns.len(),
            dir.display(),
            started.elapsed().as_secs_f64()
        );
        Ok(())
    })
}
