//! Rules that only change how fast a plan runs.
//!
//! Each keeps a plan's result (rows, types, order where one is promised) and
//! its governance: none of them decides what a principal sees, and none is
//! allowed to move anything across a fence barrier. Turning any of them off
//! gives the same answers, slower (the end-to-end tests compare with plain
//! DataFusion where a rule replaces one of its operators):
//!
//! * [`plan_cache`] — prepared statements keep their physical plan while
//!   everything it was built from still holds;
//! * [`run_grouping`] — partial aggregates over an area code look a key up
//!   only where a run of equal codes starts;
//! * [`nested_plan`] — a governed scan's own plan gets one logical pass,
//!   and leaves its physical optimization to the query's, which reaches it
//!   anyway;
//! * [`date_part`] — the year, month or day of a date straight from its day
//!   number;
//! * [`yielding_joins`] — joins hand control back to the scheduler, so a
//!   stopped query stops.
//!
//! Not here: the rules governance depends on for safety (`governance`), and
//! what PostgreSQL clients expect (`postgres`).

pub(crate) mod date_part;
pub(crate) mod nested_plan;
pub(crate) mod plan_cache;
pub(crate) mod run_grouping;
pub(crate) mod yielding_joins;
