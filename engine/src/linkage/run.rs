//! Reading the list and the register, and running the linker over them.

use super::LinkedTable;
use crate::Result;
use datafusion::arrow::array::{
    Array, ArrayRef, Date32Array, Float64Array, RecordBatch, StringArray,
};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::Session as CatalogSession;
use datafusion::physical_plan::{collect, execute_stream};
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use zhenjie_linkage::record::prepare_all;
use zhenjie_linkage::{Linker, RawPerson};

/// The linked list: every row, in the list's order, with its match columns,
/// and the raw area code of each row's accepted resident (for the fence).
pub(super) struct Linked {
    pub batch: RecordBatch,
    pub areas: Vec<Option<String>>,
}

/// A role's column as text (or days, for the birth date), whatever type the
/// files hold it in.
struct RoleArrays {
    text: [Option<StringArray>; 6],
    birth: Option<Date32Array>,
}

impl RoleArrays {
    /// `where_is(row)` says where a row came from, for errors.
    fn of(
        batch: &RecordBatch,
        columns: [Option<&str>; 6],
        where_is: &dyn Fn(usize) -> String,
    ) -> Result<RoleArrays> {
        let mut text: [Option<StringArray>; 6] = Default::default();
        let mut birth = None;
        for (i, c) in columns.iter().enumerate() {
            let Some(c) = c else { continue };
            let Some(a) = batch.column_by_name(c) else {
                continue;
            };
            if i == 3 {
                birth = Some(dates(a, c, where_is)?);
            } else {
                let s = cast(a, &DataType::Utf8)?;
                text[i] = s.as_any().downcast_ref::<StringArray>().cloned();
            }
        }
        Ok(RoleArrays { text, birth })
    }

    fn person(&self, row: usize) -> RawPerson<'_> {
        let t = |i: usize| {
            self.text[i]
                .as_ref()
                .filter(|a| a.is_valid(row))
                .map(|a| a.value(row))
        };
        RawPerson {
            id_number: t(0),
            name: t(1),
            sex: t(2),
            birth_date: self
                .birth
                .as_ref()
                .filter(|a| a.is_valid(row))
                .map(|a| a.value(row)),
            phone: t(4),
            address: t(5),
        }
    }
}

/// A birth-date column as days. Text (a CSV list) must hold dates: a value
/// that is not one is an error naming its line and column, never a NULL
/// that would quietly weaken the match.
fn dates(a: &ArrayRef, column: &str, where_is: &dyn Fn(usize) -> String) -> Result<Date32Array> {
    if !matches!(
        a.data_type(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) {
        let d = cast(a, &DataType::Date32)?;
        return Ok(d
            .as_any()
            .downcast_ref::<Date32Array>()
            .cloned()
            .expect("cast to Date32"));
    }
    let text = cast(a, &DataType::Utf8)?;
    let text = text
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("cast to Utf8");
    let mut out = Vec::with_capacity(text.len());
    for (row, v) in text.iter().enumerate() {
        let v = v.map(str::trim).filter(|v| !v.is_empty());
        out.push(match v {
            None => None,
            Some(v) => Some(parse_date(v).ok_or_else(|| {
                crate::EngineError::new(
                    crate::sqlstate::INVALID_DATETIME_FORMAT,
                    format!(
                        "{}, column {column}: \"{v}\" is not a date (YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD)",
                        where_is(row)
                    ),
                )
            })?),
        });
    }
    Ok(Date32Array::from(out))
}

/// Days since 1970-01-01 of a date as lists write them.
fn parse_date(v: &str) -> Option<i32> {
    let digits: String = v.chars().filter(|c| c.is_ascii_digit()).collect();
    let parts: Vec<&str> = v.split(['-', '/', '.']).collect();
    let (y, m, d) = match parts.as_slice() {
        [y, m, d] => (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?),
        [_] if digits.len() == 8 && digits.len() == v.len() => (
            digits[..4].parse().ok()?,
            digits[4..6].parse().ok()?,
            digits[6..].parse().ok()?,
        ),
        _ => return None,
    };
    zhenjie_udfs::calendar::is_valid_date(y, m, d)
        .then(|| zhenjie_udfs::calendar::days_from_civil(y, m, d))
}

/// Runs CPU-heavy work without starving the runtime's other tasks.
fn heavy<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// The link of `t`, kept while its inputs stay the same (see [`LinkCache`]).
pub(super) async fn link(t: &LinkedTable, state: &dyn CatalogSession) -> Result<Arc<Linked>> {
    let engine = &t.engine;
    let datasets = [t.list.name.clone(), t.register.name.clone()]
        .into_iter()
        .collect();
    let key = LinkKey {
        list: t.list.name.clone(),
        register: t.register.name.clone(),
        accept: t.options.accept.to_bits(),
        review: t.options.review.to_bits(),
        files: crate::speed::plan_cache::Files::list(engine, state, &datasets).await?,
        decisions: super::decisions::stamp(engine),
    };
    if let Some(kept) = engine.link_cache().get(&key) {
        return Ok(kept);
    }
    let linked = Arc::new(compute(t, state).await?);
    engine.link_cache().put(key, linked.clone());
    Ok(linked)
}

/// What a link result depends on: its inputs' files (listed again at every
/// call, as a kept plan's are), the decisions file and the thresholds.
#[derive(PartialEq)]
struct LinkKey {
    list: String,
    register: String,
    accept: u64,
    review: u64,
    files: crate::speed::plan_cache::Files,
    decisions: Option<(u64, std::time::SystemTime)>,
}

/// Link results kept across statements and sessions: a dashboard that
/// refreshes `link_persons` for each town links once, not once per town and
/// refresh, until a file of the list or register, or a decision, changes.
/// A kept result is the city's (unfenced, unmasked); each call fences and
/// masks it for its own principal.
#[derive(Default)]
pub(crate) struct LinkCache(std::sync::Mutex<Vec<(LinkKey, Arc<Linked>)>>);

/// Results kept at most (the newest).
const KEPT_LINKS: usize = 4;

impl LinkCache {
    fn get(&self, key: &LinkKey) -> Option<Arc<Linked>> {
        let kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        kept.iter().find(|(k, _)| k == key).map(|(_, l)| l.clone())
    }

    fn put(&self, key: LinkKey, linked: Arc<Linked>) {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|(k, _)| !(k.list == key.list && k.register == key.register));
        if kept.len() >= KEPT_LINKS {
            kept.remove(0);
        }
        kept.push((key, linked));
    }
}

async fn compute(t: &LinkedTable, state: &dyn CatalogSession) -> Result<Linked> {
    let engine = &t.engine;
    let started = std::time::Instant::now();
    // The whole list, as it is (the link is the city's; see the module doc).
    let list_table = engine.table(&t.list.name).expect("checked at call").clone();
    let list_schema = list_table.schema();
    let plan = list_table.scan(state, None, &[], None).await?;
    let batches = collect(plan, state.task_ctx()).await?;
    let list = concat_batches(&list_schema, &batches)?;
    // A one-file CSV list is read in order: row r is on line r + 2.
    let location = engine.catalog().resolve_location(&t.list.location);
    let one_csv = t.list.format == zhenjie_catalog::Format::Csv && location.ends_with(".csv");
    let where_is = |row: usize| {
        if one_csv {
            format!("{} ({location}): line {}", t.list.name, row + 2)
        } else {
            format!("{}: row {}", t.list.name, row + 1)
        }
    };
    let roles = RoleArrays::of(&list, t.roles.0.columns(), &where_is)?;
    let raw: Vec<RawPerson<'_>> = (0..list.num_rows()).map(|r| roles.person(r)).collect();
    let prepared = heavy(|| prepare_all(&raw));
    let mut linker = Linker::new(prepared, t.options.clone());
    let list_ready = started.elapsed();

    // The register streams past, only the role and area columns read.
    let register_table = engine
        .table(&t.register.name)
        .expect("checked at call")
        .clone();
    let register_schema = register_table.schema();
    let mut names: Vec<&str> = t.roles.1.columns().into_iter().flatten().collect();
    names.push(&t.register_area);
    let projection: Vec<usize> = names
        .iter()
        .filter_map(|n| register_schema.index_of(n).ok())
        .collect();
    let plan = register_table
        .scan(state, Some(&projection), &[], None)
        .await?;
    let mut stream = execute_stream(plan, state.task_ctx())?;
    // Identity number and area code of every register row a match can name.
    let mut payloads: HashMap<u64, (String, Option<String>)> = HashMap::new();
    let id_column = t.roles.1.id_number.as_deref().expect("checked at call");
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let first = linker.register_rows();
        let where_is =
            |row: usize| format!("{}: row {}", t.register.name, first as usize + row + 1);
        let roles = RoleArrays::of(&batch, t.roles.1.columns(), &where_is)?;
        let raw: Vec<RawPerson<'_>> = (0..batch.num_rows()).map(|r| roles.person(r)).collect();
        let compared = heavy(|| linker.add_register(&prepare_all(&raw)));
        let ids = text_column(&batch, id_column)?;
        let areas = text_column(&batch, &t.register_area)?;
        for i in compared {
            if ids.is_valid(i) {
                let area = areas.is_valid(i).then(|| areas.value(i).to_string());
                payloads.insert(first + i as u64, (ids.value(i).to_string(), area));
            }
        }
    }
    let streamed = started.elapsed();
    let (mut links, _model, stats) = heavy(|| linker.finish());
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        "link_persons({}, {}): {} list rows against {} register rows, {} pairs compared \
         ({:.0} pairs/s) and {} random pairs; list read and cleaned in {:.2} s, register \
         streamed in {:.2} s, model and bands in {:.2} s; EM took {} rounds",
        t.list.name,
        t.register.name,
        stats.list_rows,
        stats.register_rows,
        stats.pairs,
        stats.pairs as f64 / seconds.max(1e-9),
        stats.random_pairs,
        list_ready.as_secs_f64(),
        (streamed - list_ready).as_secs_f64(),
        seconds - streamed.as_secs_f64(),
        stats.em_iterations,
    );

    // Each row's key for clerical decisions, and the decisions made.
    let row_keys: Vec<Option<String>> = match super::decisions::row_key_secret(engine) {
        Some(secret) => raw
            .iter()
            .map(|p| {
                let text = [
                    p.id_number.unwrap_or(""),
                    p.name.unwrap_or(""),
                    p.sex.unwrap_or(""),
                    &p.birth_date.map(|d| d.to_string()).unwrap_or_default(),
                    p.phone.unwrap_or(""),
                    p.address.unwrap_or(""),
                ]
                .join("\u{1f}");
                Some(zhenjie_udfs::masking::keyed_hash(text.as_bytes(), &secret))
            })
            .collect(),
        None => vec![None; raw.len()],
    };
    let decided = super::decisions::load(engine, &t.list.name)?;
    if !decided.is_empty() {
        let pseudonym_key = crate::governance::hash_mask_key(engine).ok();
        for (link, key) in links.iter_mut().zip(&row_keys) {
            let Some(d) = key.as_ref().and_then(|k| decided.get(k)) else {
                continue;
            };
            let by = format!("{} by {} at {}", d.decision, d.user, d.at);
            if d.decision == "reject" {
                link.band = zhenjie_linkage::Band::Reject;
                link.register_row = None;
                link.reasons = format!("{by}; {}", link.reasons);
                continue;
            }
            let best = link
                .register_row
                .and_then(|r| payloads.get(&r))
                .map(|(id, _)| id.as_str());
            let named = |id: &str| {
                d.resident.as_deref() == Some(id)
                    || pseudonym_key.as_ref().is_some_and(|k| {
                        d.resident.as_deref()
                            == Some(zhenjie_udfs::masking::keyed_hash(id.as_bytes(), k).as_str())
                    })
            };
            if best.is_some_and(named) {
                link.band = zhenjie_linkage::Band::Accept;
                link.reasons = format!("{by}; {}", link.reasons);
            } else {
                // The data moved on since: a clerk looks again.
                link.band = zhenjie_linkage::Band::Review;
                link.reasons = format!("{by} named another resident; {}", link.reasons);
            }
        }
    }

    let mut columns: Vec<ArrayRef> = list.columns().to_vec();
    let matched: Vec<Option<&(String, Option<String>)>> = links
        .iter()
        .map(|l| l.register_row.and_then(|r| payloads.get(&r)))
        .collect();
    columns.push(Arc::new(
        matched
            .iter()
            .map(|m| m.map(|(id, _)| id.as_str()))
            .collect::<StringArray>(),
    ));
    columns.push(Arc::new(
        links.iter().map(|l| l.weight).collect::<Float64Array>(),
    ));
    columns.push(Arc::new(
        links
            .iter()
            .map(|l| l.probability)
            .collect::<Float64Array>(),
    ));
    columns.push(Arc::new(
        links
            .iter()
            .map(|l| Some(l.band.as_str()))
            .collect::<StringArray>(),
    ));
    columns.push(Arc::new(
        links
            .iter()
            .map(|l| Some(l.reasons.as_str()))
            .collect::<StringArray>(),
    ));
    columns.push(Arc::new(
        row_keys
            .iter()
            .map(|k| k.as_deref())
            .collect::<StringArray>(),
    ));
    let areas = links
        .iter()
        .zip(&matched)
        .map(|(l, m)| match (l.band, m) {
            (zhenjie_linkage::Band::Accept, Some((_, area))) => area.clone(),
            _ => None,
        })
        .collect();
    Ok(Linked {
        batch: RecordBatch::try_new(t.schema.clone(), columns)?,
        areas,
    })
}

/// `id exact +17.2, name same_pinyin +9.1` as `id exact, name same_pinyin`.
pub(super) fn without_weights(reasons: &str) -> String {
    let is_weight = |t: &str| {
        t.starts_with(['+', '-']) && t[1..].chars().all(|c| c.is_ascii_digit() || c == '.')
    };
    reasons
        .split(", ")
        .map(|part| {
            part.split(' ')
                .filter(|t| !is_weight(t))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn text_column(batch: &RecordBatch, name: &str) -> Result<StringArray> {
    let a = batch.column_by_name(name).ok_or_else(|| {
        crate::EngineError::new(
            crate::sqlstate::INTERNAL_ERROR,
            format!("column {name} not read"),
        )
    })?;
    Ok(cast(a, &DataType::Utf8)?
        .as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .expect("cast to Utf8"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn weights_leave_the_reasons() {
        assert_eq!(
            super::without_weights(
                "id exact +17.2, name same_pinyin +9.1, phone missing, birth different -4.0"
            ),
            "id exact, name same_pinyin, phone missing, birth different"
        );
        assert_eq!(
            super::without_weights("accept by city at 2026-12-05T07:00:00+00:00; id exact +1.0"),
            "accept by city at 2026-12-05T07:00:00+00:00; id exact"
        );
    }
}
