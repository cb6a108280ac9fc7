//! `link_households(source [, source …])`: persons grouped into households
//! across sources that do not share a household number.
//!
//! Two rows are linked when they carry the same household number (a column
//! of class `household`), or live at the same address (down to the room)
//! and share a surname; households are the connected components of those
//! links, so a list that has no household numbers joins the register's
//! households through addresses, and two registered households at one
//! address with one surname (parents and a married son, 分户不分家) become
//! one living household.
//!
//! Governance as for `link_persons`: each source's rows are fenced by its
//! own placement (a source placed through a key is grouped only at city
//! level), sizes count only the rows the caller sees, and identity numbers,
//! names and addresses are masked by class; the group id is a keyed hash,
//! so it names no address.

use super::{external, roles::Roles};
use crate::{Engine, EngineError, Principal};
use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session as CatalogSession, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::collect;
use std::collections::HashMap;
use std::sync::Arc;
use zhenjie_catalog::{Column, Dataset, Level, Placement};

/// The SQL name of the table function.
pub const LINK_HOUSEHOLDS: &str = "link_households";

/// The class of a household-number column.
pub const HOUSEHOLD_CLASS: &str = "household";

/// `link_households(source, …)` for one principal.
#[derive(Debug)]
pub(crate) struct LinkHouseholds {
    engine: Engine,
    principal: Principal,
}

impl LinkHouseholds {
    pub(crate) fn new(engine: Engine, principal: Principal) -> LinkHouseholds {
        LinkHouseholds { engine, principal }
    }
}

impl TableFunctionImpl for LinkHouseholds {
    fn call(&self, args: &[Expr]) -> datafusion::error::Result<Arc<dyn TableProvider>> {
        let usage = || {
            external(EngineError::new(
                crate::sqlstate::INVALID_PARAMETER_VALUE,
                format!("{LINK_HOUSEHOLDS}(source text [, source text …]): dataset names"),
            ))
        };
        if args.is_empty() {
            return Err(usage());
        }
        let mut sources = Vec::new();
        for a in args {
            match a {
                Expr::Literal(
                    ScalarValue::Utf8(Some(s))
                    | ScalarValue::Utf8View(Some(s))
                    | ScalarValue::LargeUtf8(Some(s)),
                    _,
                ) => sources.push(s.clone()),
                _ => return Err(usage()),
            }
        }
        Ok(Arc::new(super::ResultTable(
            Households::new(&self.engine, &self.principal, &sources).map_err(external)?,
        )))
    }
}

/// One source: its dataset, the columns that play a part, and how the
/// caller's fence applies to it.
#[derive(Debug)]
struct Source {
    dataset: Dataset,
    roles: Roles,
    household: Option<String>,
    /// The area column rows are fenced by (`None`: city level sees all).
    area: Option<String>,
}

/// One visible row of a source, as grouping reads it.
struct Member {
    source: usize,
    /// 1-based position in the source as read.
    row: i64,
    id: Option<String>,
    name: Option<String>,
    address: Option<String>,
    household: Option<String>,
}

#[derive(Debug)]
struct Households {
    engine: Engine,
    principal: Principal,
    sources: Vec<Source>,
    schema: SchemaRef,
}

impl Households {
    fn new(engine: &Engine, principal: &Principal, names: &[String]) -> crate::Result<Households> {
        let missing = |name: &str| {
            EngineError::new(
                crate::sqlstate::UNDEFINED_TABLE,
                format!("relation \"{name}\" does not exist"),
            )
        };
        let mut sources = Vec::new();
        for name in names {
            let d = engine
                .catalog()
                .dataset(name)
                .ok_or_else(|| missing(name))?;
            if crate::governance::govern(engine, d, principal)?.is_none() {
                return Err(missing(name));
            }
            let schema = engine.table(name).ok_or_else(|| missing(name))?.schema();
            let roles = Roles::of(d, &schema)?;
            let household = d
                .columns
                .iter()
                .find(|(c, col)| {
                    col.class.as_deref() == Some(HOUSEHOLD_CLASS)
                        && schema.field_with_name(c).is_ok()
                })
                .map(|(c, _)| c.clone());
            let area = match (&d.placement, principal.level) {
                (_, Level::City) => None,
                (Some(Placement::Column { column }), _) => Some(column.clone()),
                _ => {
                    return Err(EngineError::denied(format!(
                        "permission denied: {name} is not placed by an area column, \
                         so only the city level can group its rows into households"
                    )))
                }
            };
            sources.push(Source {
                dataset: d.clone(),
                roles,
                household,
                area,
            });
        }
        let schema = Arc::new(Schema::new(vec![
            Field::new("source", DataType::Utf8, false),
            Field::new("source_row", DataType::Int64, false),
            Field::new("id_number", DataType::Utf8, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("address", DataType::Utf8, true),
            Field::new("household_group", DataType::Utf8, false),
            Field::new("household_size", DataType::Int64, false),
        ]));
        Ok(Households {
            engine: engine.clone(),
            principal: principal.clone(),
            sources,
            schema,
        })
    }

    /// The dataset the result is masked as.
    fn masked_as(&self) -> Dataset {
        let class = |c: &str| Column {
            comment: String::new(),
            class: Some(c.to_string()),
        };
        Dataset {
            snapshots: false,
            name: LINK_HOUSEHOLDS.to_string(),
            location: String::new(),
            format: zhenjie_catalog::Format::Parquet,
            comment: String::new(),
            placement: None,
            columns: [
                ("id_number".to_string(), class("id_number")),
                ("name".to_string(), class("name")),
                ("address".to_string(), class("address")),
            ]
            .into_iter()
            .collect(),
            partitions: Vec::new(),
        }
    }

    /// Every visible row of every source, grouped.
    async fn group(&self, state: &dyn CatalogSession) -> crate::Result<RecordBatch> {
        let ranges = self
            .engine
            .catalog()
            .fence_ranges(self.principal.area.prefix());
        // Every visible row of every source.
        let mut rows: Vec<Member> = Vec::new();
        for (s, source) in self.sources.iter().enumerate() {
            let table = self
                .engine
                .table(&source.dataset.name)
                .expect("checked at call");
            let plan = table.scan(state, None, &[], None).await?;
            let batches = collect(plan, state.task_ctx()).await?;
            let batch = concat_batches(&table.schema(), &batches)?;
            let text = |c: Option<&str>| c.map(|c| super::run::text_column(&batch, c)).transpose();
            let (ids, names, addresses, households, areas) = (
                text(source.roles.id_number.as_deref())?,
                text(source.roles.name.as_deref())?,
                text(source.roles.address.as_deref())?,
                text(source.household.as_deref())?,
                text(source.area.as_deref())?,
            );
            let value = |a: &Option<StringArray>, i: usize| {
                a.as_ref()
                    .filter(|a| a.is_valid(i))
                    .map(|a| a.value(i).to_string())
            };
            for i in 0..batch.num_rows() {
                if source.area.is_some() && !super::in_fence(&ranges, value(&areas, i).as_deref()) {
                    continue;
                }
                rows.push(Member {
                    source: s,
                    row: i as i64 + 1,
                    id: value(&ids, i),
                    name: value(&names, i),
                    address: value(&addresses, i),
                    household: value(&households, i).filter(|h| !h.trim().is_empty()),
                });
            }
        }
        // Union-find over rows and the keys they share.
        let mut parent: Vec<usize> = (0..rows.len()).collect();
        fn find(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        let mut first_with: HashMap<String, usize> = HashMap::new();
        let mut scratch = zhenjie_udfs::address::AddressScratch::default();
        for (r, row) in rows.iter().enumerate() {
            let mut keys = Vec::new();
            if let Some(h) = &row.household {
                keys.push(format!("H:{}", h.trim()));
            }
            if let (Some(address), Some(name)) = (&row.address, &row.name) {
                let parsed = zhenjie_udfs::address::address_parse_with(&mut scratch, address);
                let mut key = String::new();
                let surname = zhenjie_udfs::names::name_normalize(name).chars().next();
                if let (true, Some(surname)) = (
                    zhenjie_udfs::address::address_key_into(&parsed, 10, &mut key),
                    surname,
                ) {
                    keys.push(format!("A:{key}|{surname}"));
                }
            }
            for k in keys {
                match first_with.get(&k) {
                    Some(&other) => {
                        let (a, b) = (find(&mut parent, r), find(&mut parent, other));
                        if a != b {
                            parent[a.max(b)] = a.min(b);
                        }
                    }
                    None => {
                        first_with.insert(k, r);
                    }
                }
            }
        }
        let roots: Vec<usize> = (0..rows.len()).map(|r| find(&mut parent, r)).collect();
        let mut sizes: HashMap<usize, i64> = HashMap::new();
        for r in &roots {
            *sizes.entry(*r).or_default() += 1;
        }
        // A group is named by a keyed hash of its first row, never by an
        // address or number.
        let secret = super::decisions::row_key_secret(&self.engine).unwrap_or_default();
        let group_id = |root: usize| {
            let m = &rows[root];
            zhenjie_udfs::masking::keyed_hash(
                format!("{}\u{1f}{}", self.sources[m.source].dataset.name, m.row).as_bytes(),
                &secret,
            )
        };
        let columns: Vec<ArrayRef> = vec![
            Arc::new(
                rows.iter()
                    .map(|r| Some(self.sources[r.source].dataset.name.as_str()))
                    .collect::<StringArray>(),
            ),
            Arc::new(rows.iter().map(|r| r.row).collect::<Int64Array>()),
            Arc::new(
                rows.iter()
                    .map(|r| r.id.as_deref())
                    .collect::<StringArray>(),
            ),
            Arc::new(
                rows.iter()
                    .map(|r| r.name.as_deref())
                    .collect::<StringArray>(),
            ),
            Arc::new(
                rows.iter()
                    .map(|r| r.address.as_deref())
                    .collect::<StringArray>(),
            ),
            Arc::new(
                roots
                    .iter()
                    .map(|r| Some(group_id(*r)))
                    .collect::<StringArray>(),
            ),
            Arc::new(roots.iter().map(|r| sizes[r]).collect::<Int64Array>()),
        ];
        Ok(RecordBatch::try_new(self.schema.clone(), columns)?)
    }
}

#[async_trait]
impl super::FencedRows for Households {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn engine(&self) -> &Engine {
        &self.engine
    }

    fn principal(&self) -> &Principal {
        &self.principal
    }

    fn masked_as(&self) -> Dataset {
        self.masked_as()
    }

    async fn rows(&self, state: &dyn CatalogSession) -> crate::Result<RecordBatch> {
        self.group(state).await
    }
}
