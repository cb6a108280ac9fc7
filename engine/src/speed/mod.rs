pub(crate) mod date_part;
pub(crate) mod plan_cache;
pub(crate) mod run_grouping;
pub(crate) mod yielding_joins;
