//! XLSX that opens in Excel and WPS: the title above, bold labels, numbers
//! as numbers (thousands separators, two decimals where fractional), a bold
//! subtotal row per area and a bold totals row, the header frozen.

use crate::{Cell, Line, Rendered, ReportError};
use rust_xlsxwriter::{Format, Workbook};

/// Writes `r` as an XLSX workbook at `path`.
pub fn write_xlsx(r: &Rendered, path: &std::path::Path) -> Result<(), ReportError> {
    write_workbook(std::slice::from_ref(r), path)
}

/// Writes several reports as one workbook, a sheet each (a town's forms in
/// one file).
pub fn write_workbook(reports: &[Rendered], path: &std::path::Path) -> Result<(), ReportError> {
    let err = |e: rust_xlsxwriter::XlsxError| ReportError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let mut book = Workbook::new();
    for r in reports {
        sheet(&mut book, r).map_err(err)?;
    }
    book.save(path).map_err(err)
}

fn sheet(book: &mut Workbook, r: &Rendered) -> Result<(), rust_xlsxwriter::XlsxError> {
    let sheet = book.add_worksheet();
    // Sheet names are at most 31 characters and avoid []:*?/\.
    let name: String = r
        .name
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect();
    sheet.set_name(&name)?;
    let title = Format::new().set_bold().set_font_size(14);
    let bold = Format::new().set_bold();
    let int = Format::new().set_num_format("#,##0");
    let num = Format::new().set_num_format("#,##0.00");
    sheet.write_string_with_format(0, 0, format!("{}（{}）", r.title, r.area), &title)?;
    for (c, label) in r.labels.iter().enumerate() {
        sheet.write_string_with_format(2, c as u16, label, &bold)?;
        sheet.set_column_width(c as u16, (label.chars().count() as f64 * 2.2).max(10.0))?;
    }
    let mut row = 3u32;
    for (cells, line) in r.lines() {
        let is_total = line != Line::Row;
        for (c, cell) in cells.iter().enumerate() {
            let col = c as u16;
            let (i, n) = if is_total {
                (int.clone().set_bold(), num.clone().set_bold())
            } else {
                (int.clone(), num.clone())
            };
            match cell {
                Cell::Text(s) if is_total => sheet.write_string_with_format(row, col, s, &bold),
                Cell::Text(s) => sheet.write_string(row, col, s),
                Cell::Int(v) => sheet.write_number_with_format(row, col, *v as f64, &i),
                Cell::Number(v) => sheet.write_number_with_format(row, col, *v, &n),
                Cell::Empty => continue,
            }?;
        }
        row += 1;
    }
    sheet.set_freeze_panes(3, 0)?;
    Ok(())
}
