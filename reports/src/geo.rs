//! Maps (一张图): a report whose rows carry `lng` and `lat` as GeoJSON for
//! map tools, or drawn as an SVG picture for those who would rather look
//! than read.
//!
//! Both read the same rendered rows as the other formats, so a map shows
//! exactly what the user's fence and masks allow. In the picture, rows whose
//! `kind` is an area level (a village, a town, …) are areas, filled by their
//! `measure` on a light-to-dark scale; other rows are points coloured by
//! their `kind`. The demo's areas have centre points, not boundaries, so an
//! area is drawn as a disc at its centre.

use crate::{Cell, Rendered, ReportError};
use std::fmt::Write as _;
use std::io::Write;

fn column(r: &Rendered, name: &str) -> Option<usize> {
    r.columns.iter().position(|c| c == name)
}

fn coordinates(r: &Rendered) -> Result<(usize, usize), String> {
    match (column(r, "lng"), column(r, "lat")) {
        (Some(x), Some(y)) => Ok((x, y)),
        _ => Err(format!(
            "report {} has no lng and lat columns; maps need them",
            r.name
        )),
    }
}

fn number(c: &Cell) -> Option<f64> {
    match c {
        Cell::Int(i) => Some(*i as f64),
        Cell::Number(x) => Some(*x),
        Cell::Text(s) => s.parse().ok(),
        Cell::Empty => None,
    }
}

fn write_err(path: &str) -> impl Fn(String) -> ReportError + '_ {
    move |message| ReportError::Write {
        path: path.to_string(),
        message,
    }
}

/// Writes the rows of `r` as a GeoJSON FeatureCollection of points (RFC
/// 7946: longitude first, WGS 84), every other column a property. Rows
/// without coordinates are left out.
pub fn write_geojson(r: &Rendered, out: &mut dyn Write, path: &str) -> Result<(), ReportError> {
    use serde_json::{json, Map, Value};
    let err = write_err(path);
    let (x, y) = coordinates(r).map_err(&err)?;
    let features: Vec<Value> = r
        .rows
        .iter()
        .filter_map(|row| {
            let (lng, lat) = (number(&row[x])?, number(&row[y])?);
            let mut properties = Map::new();
            for (i, cell) in row.iter().enumerate() {
                if i == x || i == y {
                    continue;
                }
                let v = match cell {
                    Cell::Text(s) => Value::from(s.as_str()),
                    Cell::Int(n) => Value::from(*n),
                    Cell::Number(n) => Value::from(*n),
                    Cell::Empty => Value::Null,
                };
                properties.insert(r.columns[i].clone(), v);
            }
            Some(json!({
                "type": "Feature",
                "geometry": { "type": "Point", "coordinates": [lng, lat] },
                "properties": properties,
            }))
        })
        .collect();
    let collection = json!({
        "type": "FeatureCollection",
        "name": format!("{}（{}）", r.title, r.area),
        "features": features,
    });
    serde_json::to_writer(&mut *out, &collection).map_err(|e| err(e.to_string()))?;
    out.write_all(b"\n").map_err(|e| err(e.to_string()))
}

const AREA_KINDS: [&str; 5] = ["city", "county", "town", "village", "grid"];
const PALETTE: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A light-yellow to dark-red colour for `t` in 0..=1.
fn ramp(t: f64) -> String {
    let t = t.clamp(0.0, 1.0);
    let (r, g, b) = (255.0 - 75.0 * t, 237.0 - 200.0 * t, 160.0 - 120.0 * t);
    format!("#{:02x}{:02x}{:02x}", r as u8, g as u8, b as u8)
}

/// Draws the rows of `r` as an SVG map: areas filled by `measure`, points
/// coloured by `kind`, with a title, a legend and each mark's name and
/// measure as its tooltip.
pub fn write_svg(r: &Rendered, out: &mut dyn Write, path: &str) -> Result<(), ReportError> {
    let err = write_err(path);
    let (x, y) = coordinates(r).map_err(&err)?;
    let kind = column(r, "kind");
    let name = column(r, "name");
    let measure = column(r, "measure");
    let points: Vec<(f64, f64, &Vec<Cell>)> = r
        .rows
        .iter()
        .filter_map(|row| Some((number(&row[x])?, number(&row[y])?, row)))
        .collect();
    if points.is_empty() {
        return Err(err(format!(
            "report {} has no rows with coordinates",
            r.name
        )));
    }
    let text = |row: &Vec<Cell>, i: Option<usize>| match i.map(|i| &row[i]) {
        Some(Cell::Text(s)) => s.clone(),
        Some(Cell::Int(n)) => n.to_string(),
        Some(Cell::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let (min_x, max_x) = points
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (min_y, max_y) = points
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let mid = ((min_y + max_y) / 2.0).to_radians().cos();
    let span_x = ((max_x - min_x) * mid).max(1e-6);
    let span_y = (max_y - min_y).max(1e-6);
    let (width, margin, top) = (900.0, 20.0, 50.0);
    let scale = (width - 2.0 * margin) / span_x;
    let height = (span_y * scale).min(1600.0) + top + margin + 40.0;
    let scale = scale.min((height - top - margin - 40.0) / span_y);
    let px = |lng: f64| margin + (lng - min_x) * mid * scale;
    let py = |lat: f64| top + (max_y - lat) * scale;
    let is_area = |row: &Vec<Cell>| AREA_KINDS.contains(&text(row, kind).as_str());
    let measures: Vec<f64> = points
        .iter()
        .filter(|p| is_area(p.2))
        .filter_map(|p| measure.and_then(|m| number(&p.2[m])))
        .collect();
    let (lo, hi) = measures
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), m| (a.min(*m), b.max(*m)));
    let mut kinds: Vec<String> = Vec::new();
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0}" viewBox="0 0 {width} {height:.0}" font-family="sans-serif">"#
    );
    let _ = writeln!(
        svg,
        r##"<rect width="100%" height="100%" fill="#f7f7f2"/>"##
    );
    let _ = writeln!(
        svg,
        r#"<text x="{margin}" y="30" font-size="18" font-weight="bold">{}</text>"#,
        escape(&format!("{}（{}）", r.title, r.area))
    );
    // Areas first, points on top.
    for area_pass in [true, false] {
        for (lng, lat, row) in points.iter().filter(|p| is_area(p.2) == area_pass) {
            let label = format!("{} {}", text(row, name), text(row, measure));
            if area_pass {
                let t = measure
                    .and_then(|m| number(&row[m]))
                    .map(|m| if hi > lo { (m - lo) / (hi - lo) } else { 0.5 })
                    .unwrap_or(0.0);
                let _ = writeln!(
                    svg,
                    r##"<circle cx="{:.1}" cy="{:.1}" r="7" fill="{}" stroke="#888" stroke-width="0.5"><title>{}</title></circle>"##,
                    px(*lng),
                    py(*lat),
                    ramp(t),
                    escape(&label)
                );
            } else {
                let k = text(row, kind);
                let i = match kinds.iter().position(|x| *x == k) {
                    Some(i) => i,
                    None => {
                        kinds.push(k);
                        kinds.len() - 1
                    }
                };
                let _ = writeln!(
                    svg,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{}" fill-opacity="0.8"><title>{}</title></circle>"#,
                    px(*lng),
                    py(*lat),
                    PALETTE[i % PALETTE.len()],
                    escape(&label)
                );
            }
        }
    }
    let ly = height - 20.0;
    let mut lx = margin;
    for (i, k) in kinds.iter().enumerate() {
        let _ = writeln!(
            svg,
            r#"<circle cx="{lx}" cy="{:.0}" r="4" fill="{}"/><text x="{}" y="{:.0}" font-size="12">{}</text>"#,
            ly - 4.0,
            PALETTE[i % PALETTE.len()],
            lx + 8.0,
            ly,
            escape(k)
        );
        lx += 20.0 + 8.0 * k.chars().count() as f64;
    }
    if !measures.is_empty() {
        let _ = writeln!(
            svg,
            r#"<rect x="{lx}" y="{:.0}" width="14" height="10" fill="{}"/><text x="{}" y="{ly:.0}" font-size="12">{lo}</text>"#,
            ly - 9.0,
            ramp(0.0),
            lx + 18.0
        );
        lx += 30.0 + 8.0 * lo.to_string().len() as f64;
        let _ = writeln!(
            svg,
            r#"<rect x="{lx}" y="{:.0}" width="14" height="10" fill="{}"/><text x="{}" y="{ly:.0}" font-size="12">{hi}</text>"#,
            ly - 9.0,
            ramp(1.0),
            lx + 18.0
        );
    }
    svg.push_str("</svg>\n");
    out.write_all(svg.as_bytes())
        .map_err(|e| err(e.to_string()))
}
