//! The one seam where governance happens: what each dataset becomes for one
//! principal. A dataset is either invisible to them, or registered in their
//! session as a [`GovernedTable`] whose every scan is
//! `scan → fence filter → masks → barrier`:
//!
//! * the fence keeps the rows of the principal's area (today's codes and the
//!   retired codes that became part of it);
//! * masks replace sensitive columns by what the principal's roles allow, right
//!   above the scan, so the user's filters, joins, grouping and functions only
//!   ever see masked values;
//! * the [`FenceBarrierExec`] stops anything of the user's query from being
//!   pushed below it, and hides file statistics — but for the user's
//!   leakproof predicates over unmasked columns, which the scan takes in
//!   beside the fence (see `leakproof`), so they prune the files.
//!
//! Whatever cannot be applied (a mask that does not fit a column, a missing
//! secret) turns the table into one that refuses every scan: fail closed.

use super::barrier::FenceBarrierExec;
use crate::error::sqlstate;
use crate::{Engine, EngineError, Principal, Result};
use async_trait::async_trait;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session as CatalogSession, TableProvider};
use datafusion::common::Column;
use datafusion::common::ScalarValue;
use datafusion::datasource::provider_as_source;
use datafusion::datasource::TableType;
use datafusion::logical_expr::{
    col, lit, Expr, JoinType, LogicalPlan, LogicalPlanBuilder, TableProviderFilterPushDown,
};
use datafusion::physical_plan::ExecutionPlan;
use std::sync::Arc;
use zhenjie_catalog::{Dataset, Level, MaskKind, Placement};

/// What a principal gets for one dataset: `None` when they may not see it at all.
pub fn govern(
    engine: &Engine,
    dataset: &Dataset,
    principal: &Principal,
) -> Result<Option<Arc<dyn TableProvider>>> {
    let base = engine
        .table(&dataset.name)
        .ok_or_else(|| EngineError::new("XX000", format!("dataset {} is not open", dataset.name)))?
        .clone();
    govern_over(engine, dataset, principal, base)
}

/// What a principal gets for other files of a dataset (an older load of
/// it, `as_of`): the same fence and masks over `base`.
pub(crate) fn govern_over(
    engine: &Engine,
    dataset: &Dataset,
    principal: &Principal,
    base: Arc<dyn TableProvider>,
) -> Result<Option<Arc<dyn TableProvider>>> {
    // The folders that can hold the principal's rows (see `folder_predicate`):
    // every plan of the dataset reads only those, fenced or not.
    let own_folders = folder_predicate(engine, principal, dataset);
    let scan = || {
        let scan = LogicalPlanBuilder::scan(&dataset.name, provider_as_source(base.clone()), None)?;
        match &own_folders {
            Some(folders) => scan.filter(folders.clone()),
            None => Ok(scan),
        }
    };
    // For a column placement, the same table without the fence filter, used
    // when the files' statistics prove every row is inside the fence.
    let mut proof = None;
    // For a key placement whose keys compare alike on both sides, the
    // dataset without its attribution (see `attribution_join`).
    let mut attribution_key = None;
    let (plan, fenced) = match &dataset.placement {
        Some(Placement::Public) => (scan()?, false),
        // Fail closed: without a declared placement only the city level sees it.
        None if principal.level == Level::City => (scan()?, false),
        None => return Ok(None),
        Some(Placement::Column { column }) => {
            if let Ok(index) = base.schema().index_of(column) {
                if let Ok((unfenced, _)) = apply_masks(engine, dataset, principal, scan()?) {
                    proof = Some(FenceProof {
                        base: base.clone(),
                        folders: own_folders.clone(),
                        folder_columns: dataset.partitions.iter().map(|p| p.name.clone()).collect(),
                        column: index,
                        ranges: fence_ranges(engine, principal),
                        nulls_inside: principal.level == Level::City,
                        unfenced: unfenced.build()?,
                    });
                }
            }
            (
                scan()?.filter(fence_predicate(engine, principal, column))?,
                true,
            )
        }
        // At city level attribution could only take rows away: the rows
        // whose key names no resident (a typo, a 15-digit number, someone
        // from elsewhere), which nobody below the city can be given. Closed
        // is not lost: the city sees them, as it sees rows with no area code.
        Some(Placement::Key { .. }) if principal.level == Level::City => (scan()?, false),
        Some(Placement::Key {
            column,
            dataset: target,
            dataset_column,
            normalize,
        }) => {
            let target_ds = engine.catalog().dataset(target).ok_or_else(|| {
                EngineError::new(
                    "XX000",
                    format!("placement target {target} is not in the catalog"),
                )
            })?;
            let Some(Placement::Column { column: area_col }) = &target_ds.placement else {
                // A key into data that is not itself placed by area cannot be fenced.
                return Ok(None);
            };
            let target_base = engine.table(target).expect("validated at open").clone();
            let target_folders = folder_predicate(engine, principal, target_ds);
            // Rows whose key is among the keys of the target's fenced rows.
            let attributed = |fenced: bool| -> Result<LogicalPlanBuilder> {
                let mut keys = LogicalPlanBuilder::scan(
                    "__fence_keys",
                    provider_as_source(target_base.clone()),
                    None,
                )?;
                if let Some(folders) = &target_folders {
                    keys = keys.filter(folders.clone())?;
                }
                if fenced {
                    keys = keys.filter(fence_predicate(engine, principal, area_col))?;
                }
                let keys = keys
                    .project(vec![col(Column::new(Some("__fence_keys"), dataset_column))])?
                    .build()?;
                let target_key = col(Column::new(Some("__fence_keys"), dataset_column));
                let key = col(Column::new(Some(dataset.name.as_str()), column));
                Ok(match normalize.as_deref() {
                    None => scan()?.join(
                        keys,
                        JoinType::LeftSemi,
                        (
                            vec![Column::new(Some(dataset.name.as_str()), column)],
                            vec![Column::new(Some("__fence_keys"), dataset_column)],
                        ),
                        None,
                    )?,
                    // The cleaned key is compared; the row keeps its own.
                    Some(f) => scan()?.join_on(
                        keys,
                        JoinType::LeftSemi,
                        vec![key_normalizer(f)?.call(vec![key]).eq(target_key)],
                    )?,
                })
            };
            // Equal masked keys mean equal raw keys only when neither side
            // is masked, or both carry the (injective) keyed hash.
            let key_masks_agree = matches!(
                (
                    mask_of(engine, dataset, column, principal),
                    mask_of(engine, target_ds, dataset_column, principal)
                ),
                (None, None) | (Some(MaskKind::Hash), Some(MaskKind::Hash))
            );
            // A user's join on the raw key is not the attribution when the
            // attribution compares cleaned keys: the semi-join stays.
            if key_masks_agree && normalize.is_none() {
                attribution_key = Some((column.clone(), target.clone(), dataset_column.clone()));
            }
            // The attribution itself always stays; the target's fence filter
            // goes when the target's statistics prove it.
            if let Ok(index) = target_base.schema().index_of(area_col) {
                if let Ok((unfenced, _)) =
                    apply_masks(engine, dataset, principal, attributed(false)?)
                {
                    proof = Some(FenceProof {
                        base: target_base.clone(),
                        folders: target_folders.clone(),
                        // The user's predicates are on the dataset, not
                        // on the target the proof lists.
                        folder_columns: Vec::new(),
                        column: index,
                        ranges: fence_ranges(engine, principal),
                        nulls_inside: principal.level == Level::City,
                        unfenced: unfenced.build()?,
                    });
                }
            }
            (attributed(true)?, true)
        }
    };
    let (plan, masked) = match apply_masks(engine, dataset, principal, plan) {
        Ok(r) => r,
        Err(reason) => {
            return Ok(Some(Arc::new(DeniedTable {
                schema: base.schema(),
                reason: format!("permission denied for table {}: {reason}", dataset.name),
            })))
        }
    };
    if !fenced && !masked {
        return Ok(Some(base));
    }
    let plan = plan.build()?;
    let schema: SchemaRef = Arc::new(plan.schema().as_arrow().clone());
    let proof = proof.map(Arc::new);
    let attribution = match attribution_key {
        Some((column, target, target_column)) => {
            match apply_masks(engine, dataset, principal, scan()?) {
                Ok((unattributed, _)) => Some(Arc::new(Attribution {
                    column,
                    target,
                    target_column,
                    attributed: plan.clone(),
                    proof: proof.clone(),
                    unattributed: unattributed.build()?,
                })),
                Err(_) => None,
            }
        }
        None => None,
    };
    Ok(Some(Arc::new(GovernedTable {
        schema,
        dataset: dataset.name.clone(),
        plan,
        proof,
        attribution,
        dropped: false,
        lean: true,
        analyzed: Default::default(),
    })))
}

/// The function a key placement cleans its key with (one of the catalog's
/// `KEY_NORMALIZERS`).
fn key_normalizer(name: &str) -> Result<datafusion::logical_expr::ScalarUDF> {
    match name {
        "id_normalize" => Ok(zhenjie_udfs::identity::id_normalize_udf()),
        other => Err(EngineError::new(
            sqlstate::INVALID_PARAMETER_VALUE,
            format!("placement normalize {other} is not a key normalizer"),
        )),
    }
}

/// A key-placed dataset with and without its attribution semi-join, for a
/// join that attributes its rows itself (see `attribution_join`).
#[derive(Debug)]
pub(crate) struct Attribution {
    /// The key column of the dataset.
    pub column: String,
    /// The dataset and column the key attributes through.
    pub target: String,
    pub target_column: String,
    /// Scan, semi-join and masks, and the proof that may drop its filter.
    attributed: LogicalPlan,
    proof: Option<Arc<FenceProof>>,
    /// Scan and masks without the semi-join.
    unattributed: LogicalPlan,
}

/// What it takes to drop a fence's filter for one scan: the placement
/// column's statistics over all files (of the dataset, or for a key
/// placement of the dataset the key attributes through) must lie inside one
/// of the fence's ranges (and have no NULLs unless NULL rows are inside).
/// For a key placement the attribution join stays; only its filter goes.
/// At city level this is the common case, and the scan then costs what it
/// costs without governance: the filter, and reading the area column, go.
/// Statistics are read at every scan, so files replaced since are re-checked.
#[derive(Debug)]
struct FenceProof {
    base: Arc<dyn TableProvider>,
    /// The folders the plans read (see `folder_predicate`): only their
    /// files' statistics count, and only they are listed.
    folders: Option<Expr>,
    /// The base's folder columns the user's predicates may fix (those of
    /// the dataset itself): the proof lists only the folders the scan
    /// reads, so files the user's own `month = …` skips are never opened.
    folder_columns: Vec<String>,
    /// Index of the placement column in the base table.
    column: usize,
    /// `[lower, upper)` string ranges of the fence (`None`: unbounded).
    ranges: Vec<(String, Option<String>)>,
    /// Whether rows with no area code are inside the fence (city level).
    nulls_inside: bool,
    /// Scan and masks, without the fence filter.
    unfenced: LogicalPlan,
}

impl FenceProof {
    /// Whether every row of the files is inside the fence, by their exact
    /// statistics; `false` whenever the statistics are missing or inexact.
    async fn holds(
        &self,
        state: &dyn CatalogSession,
        user_filters: &[Expr],
    ) -> datafusion::error::Result<bool> {
        use datafusion::common::stats::Precision;
        // A listing table's files and their statistics, without planning a
        // scan of them (the statistics come from the runtime's cache).
        let listing = self
            .base
            .as_ref()
            .downcast_ref::<datafusion::datasource::listing::ListingTable>();
        let stats = match listing {
            Some(listing) => {
                let on_folders = |e: &Expr| {
                    let columns = e.column_refs();
                    !columns.is_empty()
                        && columns
                            .iter()
                            .all(|c| self.folder_columns.contains(&c.name))
                };
                let folders: Vec<Expr> = self
                    .folders
                    .iter()
                    .cloned()
                    .chain(user_filters.iter().filter(|e| on_folders(e)).cloned())
                    .collect();
                let listed = listing.list_files_for_scan(state, &folders, None).await?;
                listed
                    .statistics
                    .column_statistics
                    .get(self.column)
                    .cloned()
            }
            None => {
                let raw = self
                    .base
                    .scan(state, Some(&vec![self.column]), &[], None)
                    .await?;
                let stats = datafusion::physical_plan::statistics::StatisticsContext::new()
                    .compute(
                        raw.as_ref(),
                        &datafusion::physical_plan::statistics::StatisticsArgs::new(),
                    )?;
                stats.column_statistics.first().cloned()
            }
        };
        let Some(c) = stats else {
            return Ok(false);
        };
        let text = |v: &ScalarValue| match v {
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)) => Some(s.clone()),
            _ => None,
        };
        let (Precision::Exact(min), Precision::Exact(max), Precision::Exact(nulls)) =
            (&c.min_value, &c.max_value, &c.null_count)
        else {
            return Ok(false);
        };
        let (Some(min), Some(max)) = (text(min), text(max)) else {
            return Ok(false);
        };
        Ok((*nulls == 0 || self.nulls_inside)
            && self
                .ranges
                .iter()
                .any(|(lower, upper)| min >= *lower && upper.as_ref().is_none_or(|u| max < *u)))
    }
}

/// The mask a principal gets on one column of a dataset, if any.
pub fn mask_of(
    engine: &Engine,
    dataset: &Dataset,
    column: &str,
    principal: &Principal,
) -> Option<MaskKind> {
    let class = dataset.columns.get(column)?.class.as_deref()?;
    engine.catalog().mask_for(class, &principal.roles)
}

/// Replaces each masked column by its mask, keeping names. An error says why
/// a mask cannot be applied; the caller then denies the table.
pub(crate) fn apply_masks(
    engine: &Engine,
    dataset: &Dataset,
    principal: &Principal,
    plan: LogicalPlanBuilder,
) -> std::result::Result<(LogicalPlanBuilder, bool), String> {
    use zhenjie_udfs::masking;
    let schema = plan.schema().clone();
    let mut masked = false;
    let mut exprs = Vec::with_capacity(schema.fields().len());
    for (qualifier, field) in schema.iter() {
        let name = field.name();
        let column = Expr::Column(Column::from((qualifier, field)));
        let Some(mask) = mask_of(engine, dataset, name, principal) else {
            exprs.push(column);
            continue;
        };
        masked = true;
        let class = dataset.columns[name].class.as_deref().unwrap_or_default();
        let is_text = matches!(
            field.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        );
        let is_date = matches!(
            field.data_type(),
            DataType::Date32 | DataType::Date64 | DataType::Timestamp(..)
        );
        let as_text = || -> std::result::Result<Expr, String> {
            Ok(datafusion::logical_expr::cast(
                column.clone(),
                DataType::Utf8,
            ))
        };
        let expr = match mask {
            MaskKind::Null => {
                let null = ScalarValue::try_from(field.data_type()).map_err(|e| e.to_string())?;
                lit(null)
            }
            MaskKind::Year if is_date => masking::birth_year_udf().call(vec![column.clone()]),
            MaskKind::Partial if is_date => masking::birth_year_udf().call(vec![column.clone()]),
            MaskKind::Year => {
                return Err(format!(
                    "mask year does not fit column {name} of type {}",
                    field.data_type()
                ))
            }
            MaskKind::Partial if !is_text => {
                return Err(format!(
                    "mask partial does not fit column {name} of type {}",
                    field.data_type()
                ))
            }
            MaskKind::Partial => match class {
                "id_number" => masking::mask_id_number_udf().call(vec![column.clone()]),
                "phone" => masking::mask_phone_udf().call(vec![column.clone()]),
                "name" => masking::mask_name_udf().call(vec![column.clone()]),
                // Addresses keep province, city and district (9 characters).
                "address" => {
                    masking::mask_partial_udf().call(vec![column.clone(), lit(9i64), lit(0i64)])
                }
                _ => masking::mask_partial_udf().call(vec![column.clone(), lit(1i64), lit(1i64)]),
            },
            MaskKind::Hash => {
                // Bound inside the mask, so no plan shows it.
                let key = hash_mask_key(engine).map_err(|e| e.to_string())?;
                let value = if is_text { column.clone() } else { as_text()? };
                datafusion::logical_expr::ScalarUDF::new_from_impl(masking::KeyedHashMaskFunc::new(
                    key,
                ))
                .call(vec![value])
            }
        };
        exprs.push(expr.alias(name));
    }
    if !masked {
        return Ok((plan, false));
    }
    Ok((plan.project(exprs).map_err(|e| e.to_string())?, true))
}

/// The key of the keyed-hash mask: the secret's hex text (what `keyed_hash`
/// would be given), so a pseudonym computed anywhere else (the audit log's
/// statement text) is the one the data shows.
pub(crate) fn hash_mask_key(engine: &Engine) -> zhenjie_catalog::Result<Vec<u8>> {
    hash_mask_key_of(engine.catalog())
}

/// [`hash_mask_key`] from the catalog alone (a cluster's executor has no
/// engine).
pub(crate) fn hash_mask_key_of(
    catalog: &zhenjie_catalog::Catalog,
) -> zhenjie_catalog::Result<Vec<u8>> {
    let secret = catalog.mask_secret()?;
    Ok(secret
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .into_bytes())
}

/// The rows of `column` inside the principal's area, today's codes and the
/// retired codes that became part of it alike (and, at city level, rows with no
/// area code). Area codes compare as strings,
/// so the fence is a range Parquet statistics can prune row groups with.
pub(crate) fn fence_predicate(engine: &Engine, principal: &Principal, column: &str) -> Expr {
    let ranges = fence_ranges(engine, principal)
        .into_iter()
        .map(|(lower, upper)| {
            let c = col(Column::new_unqualified(column));
            match upper {
                Some(u) => c.clone().gt_eq(lit(lower)).and(c.lt(lit(u))),
                None => c.gt_eq(lit(lower)),
            }
        })
        .reduce(Expr::or)
        .expect("at least the principal's own prefix");
    // Rows with no area belong to the city as a whole: only city level sees them.
    if principal.level == Level::City {
        ranges.or(col(Column::new_unqualified(column)).is_null())
    } else {
        ranges
    }
}

/// The Hive folders of `dataset` that can hold rows inside the principal's
/// fence, as a predicate on its area partition (see
/// `zhenjie_catalog::Partition::area`), which the listing prunes folders
/// with: a town user's scan lists and opens only its county's files. `None`
/// without an area partition, and at city level, whose rows with no area
/// code may be filed anywhere. It narrows the files read, never the rows
/// seen: the fence filter still applies.
fn folder_predicate(engine: &Engine, principal: &Principal, dataset: &Dataset) -> Option<Expr> {
    if principal.level == Level::City {
        return None;
    }
    let partition = dataset.partitions.iter().find(|p| p.area.is_some())?;
    let k = partition.area?.prefix_len();
    let folder = || col(Column::new_unqualified(&partition.name));
    let cut = |code: &str| code.chars().take(k).collect::<String>();
    fence_ranges(engine, principal)
        .into_iter()
        .map(|(lower, upper)| {
            // A code in [lower, upper) is filed under its first k
            // characters, which lie in [cut(lower), cut(upper)]; below
            // cut(upper) when upper has at most k characters.
            let low = cut(&lower);
            match upper {
                None => folder().gt_eq(lit(low)),
                Some(u) if u.chars().count() <= k => {
                    folder().gt_eq(lit(low)).and(folder().lt(lit(u)))
                }
                Some(u) if cut(&u) == low => folder().eq(lit(low)),
                Some(u) => folder().gt_eq(lit(low)).and(folder().lt_eq(lit(cut(&u)))),
            }
        })
        .reduce(Expr::or)
}

/// The fence as `[lower, upper)` ranges of raw area codes: those whose
/// current code lies in the principal's area (see
/// `Catalog::fence_ranges`).
fn fence_ranges(engine: &Engine, principal: &Principal) -> Vec<(String, Option<String>)> {
    engine.catalog().fence_ranges(principal.area.prefix())
}

/// A dataset as one principal sees it. Its scan is planned on its own, so no
/// predicate of the user's query is evaluated on rows outside the fence.
#[derive(Debug)]
pub struct GovernedTable {
    schema: SchemaRef,
    dataset: String,
    plan: LogicalPlan,
    proof: Option<Arc<FenceProof>>,
    attribution: Option<Arc<Attribution>>,
    /// Whether this is the variant without the attribution semi-join.
    dropped: bool,
    /// Whether its plans are the seam's own (scan, fence, semi-join, masks),
    /// which the lean planning below is for; a table function's plan is
    /// planned as any query.
    lean: bool,
    /// The plan, and the proof's plan without the fence, after the
    /// session's analyzer: analysis depends on the plan only, and costs a
    /// tenth of a short query's time when repeated at every scan.
    analyzed: [std::sync::OnceLock<LogicalPlan>; 2],
}

impl GovernedTable {
    /// A governed table over a plan already fenced and masked for its
    /// principal (a table function's result): scanned behind the same
    /// barrier as a dataset.
    pub(crate) fn over(name: &str, plan: LogicalPlan) -> GovernedTable {
        GovernedTable {
            schema: Arc::new(plan.schema().as_arrow().clone()),
            dataset: name.to_string(),
            plan,
            proof: None,
            attribution: None,
            dropped: false,
            lean: false,
            analyzed: Default::default(),
        }
    }

    /// `source` (the plan, or with `unfenced` the proof's) after the
    /// session's analyzer, computed once.
    fn analyzed(
        &self,
        source: &LogicalPlan,
        unfenced: bool,
        session: &datafusion::execution::SessionState,
    ) -> datafusion::error::Result<LogicalPlan> {
        let slot = &self.analyzed[usize::from(unfenced)];
        if let Some(plan) = slot.get() {
            return Ok(plan.clone());
        }
        let plan = session.analyzer().execute_and_check(
            source.clone(),
            session.config_options(),
            |_, _| {},
        )?;
        Ok(slot.get_or_init(|| plan).clone())
    }

    /// The columns a user reads as they are stored: those the top
    /// projection (where `apply_masks` puts the masks) passes through, or
    /// every column when nothing is masked.
    fn raw_columns(&self) -> Vec<String> {
        match &self.plan {
            LogicalPlan::Projection(p) => p
                .expr
                .iter()
                .zip(self.schema.fields())
                .filter(|(e, _)| matches!(e, Expr::Column(_)))
                .map(|(_, f)| f.name().clone())
                .collect(),
            _ => self
                .schema
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect(),
        }
    }

    /// The dataset this is the governed view of.
    pub(crate) fn dataset(&self) -> &str {
        &self.dataset
    }

    /// For a key-placed dataset whose keys compare alike on both sides, how
    /// it attributes, and whether this variant has dropped the semi-join.
    pub(crate) fn attribution(&self) -> Option<(&Attribution, bool)> {
        self.attribution.as_deref().map(|a| (a, self.dropped))
    }

    /// The same table with (`dropped = false`) or without its attribution
    /// semi-join; `None` for a table not attributed through a key.
    pub(crate) fn variant(&self, dropped: bool) -> Option<Arc<GovernedTable>> {
        let a = self.attribution.as_ref()?;
        Some(Arc::new(GovernedTable {
            schema: self.schema.clone(),
            dataset: self.dataset.clone(),
            plan: if dropped {
                a.unattributed.clone()
            } else {
                a.attributed.clone()
            },
            proof: if dropped { None } else { a.proof.clone() },
            attribution: Some(a.clone()),
            dropped,
            lean: true,
            analyzed: Default::default(),
        }))
    }
}

#[async_trait]
impl TableProvider for GovernedTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    /// Leakproof predicates over unmasked columns are taken, exactly: the
    /// scan applies them to its fenced and masked rows, which is what the
    /// filter above would have done (and a join then meets the barrier
    /// straight, see `raw_key_join`). Every other predicate stays above.
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> datafusion::error::Result<Vec<TableProviderFilterPushDown>> {
        let schema = datafusion::common::DFSchema::try_from(self.schema.as_ref().clone())?;
        let raw = self.raw_columns();
        let raw = |name: &str| raw.iter().any(|r| r == name);
        Ok(filters
            .iter()
            .map(|f| {
                if super::leakproof::is_leakproof(&unqualified(f), &schema, &raw) {
                    TableProviderFilterPushDown::Exact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn CatalogSession,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let user_filters: Vec<Expr> = filters.iter().map(unqualified).collect();
        let (source, unfenced) = match &self.proof {
            Some(proof) if proof.holds(state, &user_filters).await? => (&proof.unfenced, true),
            _ => (&self.plan, false),
        };
        let session = state
            .as_any()
            .downcast_ref::<datafusion::execution::SessionState>()
            .filter(|_| self.lean);
        let analyzed;
        let source = match session {
            Some(session) => {
                analyzed = self.analyzed(source, unfenced, session)?;
                &analyzed
            }
            None => source,
        };
        let (source, switches) = switchable_masks(source)?;
        let mut plan = LogicalPlanBuilder::from(source.clone());
        // The leakproof predicates (only those were taken), on top of the
        // fenced and masked rows: the scan's own optimizer then pushes them,
        // beside the fence, into the files.
        if let Some(predicate) = user_filters.into_iter().reduce(Expr::and) {
            plan = plan.filter(predicate)?;
        }
        if let Some(projection) = projection {
            let fields: Vec<Expr> = projection
                .iter()
                .map(|&i| Expr::Column(Column::from(source.schema().qualified_field(i))))
                .collect();
            plan = plan.project(fields)?;
        }
        let plan = plan.build()?;
        let switches = switches
            .into_iter()
            .filter_map(|(name, switch)| {
                let i = plan
                    .schema()
                    .fields()
                    .iter()
                    .position(|f| *f.name() == name)?;
                Some((i, switch))
            })
            .collect();
        let raw_names = self.raw_columns();
        let raw = plan
            .schema()
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| raw_names.contains(f.name()))
            .map(|(i, _)| i)
            .collect();
        // Planned inside the query's plan, whose last pushdown places the
        // run-time filters of this plan's joins too (see `plan_cache`).
        let inner = match session {
            // Already analyzed; the few rewrites a scan, a fence, a
            // semi-join and masks need (see `LEAN`), and no physical rules
            // (the query's reach it), so no run-time filter either.
            Some(session) => {
                let optimized = crate::speed::nested_plan::optimize(&LEAN, plan, session)?;
                crate::speed::nested_plan::plan(&optimized, session).await?
            }
            None => crate::speed::plan_cache::nested(state.create_physical_plan(&plan)).await?,
        };
        Ok(Arc::new(
            FenceBarrierExec::new(&self.dataset, inner)
                .with_switches(switches)
                .with_raw_columns(raw),
        ))
    }
}

/// The optimizer a governed scan's own plan is planned with: a scan, the
/// fence filter, the attribution semi-join, the masks and the leakproof
/// predicates only need their filters pushed into the scan (pruning), the
/// semi-join's keys found, and unread columns dropped. DataFusion's full
/// list (about thirty rules, each up to three passes) cost more than the
/// rest of a short query's planning.
static LEAN: std::sync::LazyLock<datafusion::optimizer::Optimizer> =
    std::sync::LazyLock::new(|| {
        use datafusion::optimizer::{
            extract_equijoin_predicate::ExtractEquijoinPredicate,
            filter_null_join_keys::FilterNullJoinKeys, optimize_projections::OptimizeProjections,
            push_down_filter::PushDownFilter, simplify_expressions::SimplifyExpressions,
        };
        datafusion::optimizer::Optimizer::with_rules(vec![
            Arc::new(SimplifyExpressions::new()),
            Arc::new(ExtractEquijoinPredicate::new()),
            Arc::new(FilterNullJoinKeys::default()),
            Arc::new(PushDownFilter::new()),
            Arc::new(OptimizeProjections::new()),
        ])
    });

/// A predicate of the user's query with its columns unqualified: it is
/// applied to the governed plan, whose columns carry the dataset's name,
/// not the query's alias.
fn unqualified(e: &Expr) -> Expr {
    use datafusion::common::tree_node::{Transformed, TreeNode};
    e.clone()
        .transform(|e| match e {
            Expr::Column(c) if c.relation.is_some() => Ok(Transformed::yes(Expr::Column(
                Column::new_unqualified(c.name),
            ))),
            e => Ok(Transformed::no(e)),
        })
        .map(|t| t.data)
        .unwrap_or_else(|_| e.clone())
}

/// `plan` with each keyed-hash mask of its top projection (where
/// `apply_masks` puts them) made switchable, fresh for one scan, and the
/// masked columns' names with their switches (see `raw_key_join`).
fn switchable_masks(
    plan: &LogicalPlan,
) -> datafusion::error::Result<(LogicalPlan, Vec<(String, super::mask_switch::Switch)>)> {
    use super::mask_switch::SwitchableKeyedHash;
    use datafusion::logical_expr::expr::ScalarFunction;
    use datafusion::logical_expr::{Projection, ScalarUDF};
    let LogicalPlan::Projection(projection) = plan else {
        return Ok((plan.clone(), Vec::new()));
    };
    let mut switches = Vec::new();
    let exprs = projection
        .expr
        .iter()
        .map(|e| match e {
            Expr::Alias(alias) => match alias.expr.as_ref() {
                Expr::ScalarFunction(f)
                    if f.func.name() == zhenjie_udfs::masking::KeyedHashMaskFunc::NAME =>
                {
                    let (udf, switch) = SwitchableKeyedHash::new(f.func.as_ref().clone());
                    switches.push((alias.name.clone(), switch));
                    Expr::ScalarFunction(ScalarFunction::new_udf(
                        Arc::new(ScalarUDF::new_from_impl(udf)),
                        f.args.clone(),
                    ))
                    .alias(alias.name.clone())
                }
                _ => e.clone(),
            },
            _ => e.clone(),
        })
        .collect();
    if switches.is_empty() {
        return Ok((plan.clone(), switches));
    }
    // The switchable mask answers as the mask it wraps (same name, same
    // type), so the projection keeps its schema rather than typing every
    // expression again.
    let projection = Projection::try_new_with_schema(
        exprs,
        projection.input.clone(),
        projection.schema.clone(),
    )?;
    Ok((LogicalPlan::Projection(projection), switches))
}

/// A dataset whose policy cannot be applied for this principal: it exists (so
/// the error is clear) but every scan is refused.
#[derive(Debug)]
pub struct DeniedTable {
    schema: SchemaRef,
    reason: String,
}

#[async_trait]
impl TableProvider for DeniedTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn CatalogSession,
        _projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        Err(datafusion::error::DataFusionError::External(Box::new(
            EngineError::new(sqlstate::INSUFFICIENT_PRIVILEGE, self.reason.clone()),
        )))
    }
}

/// Whether any column of any dataset is masked for this principal: then
/// whatever shows raw values of whole files (plan statistics, say) is not
/// theirs to see.
pub fn masks_anything(engine: &Engine, principal: &Principal) -> bool {
    engine.catalog().file.datasets.iter().any(|d| {
        d.columns
            .keys()
            .any(|c| mask_of(engine, d, c, principal).is_some())
    })
}

/// The masks this principal's queries get on the given `(dataset, column)`s,
/// as `dataset.column:mask` strings for the audit record.
pub fn masks_applied(
    engine: &Engine,
    principal: &Principal,
    columns: &[(String, String)],
) -> Vec<String> {
    columns
        .iter()
        .filter_map(|(d, c)| {
            let dataset = engine.catalog().dataset(d)?;
            let mask = mask_of(engine, dataset, c, principal)?;
            Some(format!("{d}.{c}:{}", mask.as_str()))
        })
        .collect()
}
