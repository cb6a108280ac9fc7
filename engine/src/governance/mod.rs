//! Governance: what keeps a grid user inside the grid, and a masked column
//! masked. Everything a principal may read of the city's data passes through
//! here; nothing here makes a plan faster unless it can show that it leaks
//! nothing (what only changes speed lives in `speed`; what PostgreSQL
//! clients expect, in `postgres`; the audit record, in `audit`).
//!
//! # The argument, in one page
//!
//! **1. A session holds only governed tables.** [`govern`] (the seam) decides,
//! once per principal and dataset, what the dataset becomes in their session:
//! nothing (no declared placement and not city level: fail closed; a key
//! placement into data that is not placed by area), the raw table (public,
//! or nothing to fence or mask), a [`DeniedTable`] that refuses every scan
//! (a mask that cannot be applied, a missing secret: a policy that cannot
//! be applied denies), or a [`GovernedTable`]. The audit log is a table only
//! for auditors, fenced by each record's area like any dataset.
//!
//! **2. Every governed scan is a plan of its own:
//! `scan → fence → masks → barrier`.** The fence is a filter on the area
//! column (a column placement) or a semi-join with the keys of the
//! principal's fenced target (a key placement); masks replace sensitive
//! columns right above it. The table declines every filter DataFusion offers
//! it, so the user's predicates stay above the scan, and the scan's plan is
//! built and optimized apart from the user's query.
//!
//! **3. Nothing of the user's query runs below the barrier but leakproof
//! predicates.** [`barrier::FenceBarrierExec`] refuses filter, dynamic-filter,
//! projection and limit pushdown, and reports only inexact row and byte
//! counts (no column's values). So no user expression that can fail on a
//! value (a cast, a division) and so reveal it, or that calls a function,
//! ever sees a row outside the fence or an unmasked value, and no aggregate
//! is answered from file metadata. The one exception is [`leakproof`]:
//! comparisons, `LIKE`, `IN` lists and NULL tests of unmasked columns
//! against constants, which cannot fail or call anything, are taken by the
//! governed scan *beside* the fence (on its fenced, masked rows), so they prune
//! the files, as PostgreSQL's leakproof operators may run below a
//! security-barrier view.
//!
//! **4. The rules that reshape a governed plan may assume 1–3 and must keep
//! what they promise.** Each states its conditions; any condition unmet
//! leaves the plan as it was.
//! * The fence proof drops a fence *filter* only when the files' exact
//!   statistics show every row inside the fence; it is re-read at every scan,
//!   so a replaced file is checked again. A key placement keeps its
//!   attribution.
//! * [`attribution_join`] drops a key placement's semi-join only when the
//!   user's own inner join with the same principal's governed target on the
//!   very same key does the attribution, with nothing of the user's query in
//!   between: the join's equality is the first thing that touches the rows.
//! * [`raw_key_join`] lets a hash join compare raw keys where both keys are
//!   keyed-hash masks straight out of governed scans and the join outputs
//!   neither: equal pseudonyms are equal values, and the raw values never
//!   leave the join.
//! * [`lineage`] traces a result column through pass-through nodes only, so
//!   the rules above never mistake a computed column for a table's key.
//!
//! # What this module does not cover
//! Plans as text (who may run `EXPLAIN VERBOSE`/`ANALYZE`) are checked in
//! `postgres::explain`; the catalog a session shows (`pg_catalog`) lists only
//! its own tables, in `postgres`; kept plans belong to one session, so one
//! principal (`speed::plan_cache`).

pub(crate) mod attribution_join;
pub(crate) mod barrier;
pub(crate) mod derived;
pub(crate) mod leakproof;
pub(crate) mod lineage;
pub(crate) mod mask_switch;
pub(crate) mod raw_key_join;
mod seam;

pub use seam::*;
