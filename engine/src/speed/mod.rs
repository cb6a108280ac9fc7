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
//! * [`key_grouping`] — partial aggregates over a few text keys (area
//!   codes, statuses, types) find a row's group from its keys' string views
//!   and read a key's text only when its views are new;
//! * [`nested_plan`] — a governed scan's own plan gets one logical pass,
//!   and leaves its physical optimization to the query's, which reaches it
//!   anyway;
//! * [`date_part`] — the year, month or day of a date straight from its day
//!   number;
//! * [`widening_casts`] — integers cast to a `numeric` that holds all their
//!   values, without a check per value;
//! * [`lookup_scans`] — a scan that looks a key up (an identity number, a
//!   phone, a credit code) decodes the rest of a row only where the key
//!   matched;
//! * [`one_partition`] — a statement that reads one row group of one file
//!   (a fence below county level) runs in one partition, without the
//!   exchanges between partitions that would have nothing to share;
//! * [`row_group_ranges`] — a scan's partitions share the row groups its
//!   predicate keeps, instead of one partition reading all of a county's;
//! * [`view_comparisons`] — text compared with a short constant (the
//!   fence's range of area codes, `LIKE '370602%'`) by each string's first
//!   16 bytes;
//! * [`yielding_joins`] — joins hand control back to the scheduler, so a
//!   stopped query stops.
//!
//! Not here: the rules governance depends on for safety (`governance`), and
//! what PostgreSQL clients expect (`postgres`).

pub(crate) mod date_part;
pub(crate) mod key_grouping;
pub(crate) mod lookup_scans;
pub(crate) mod nested_plan;
pub(crate) mod one_partition;
pub(crate) mod plan_cache;
pub(crate) mod row_group_ranges;
pub(crate) mod view_comparisons;
pub(crate) mod widening_casts;
pub(crate) mod yielding_joins;
