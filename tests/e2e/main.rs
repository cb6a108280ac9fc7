//! End-to-end tests: a real zhenjie server on an ephemeral port over a small
//! generated city, driven by real clients (tokio-postgres and the psql binary).

mod audit;
mod clients;
#[cfg(feature = "cluster")]
mod cluster;
mod common;
mod crash;
mod export;
mod fuzz;
mod governance;
mod governance_smoke;
mod grouping;
mod hostile;
mod leaks;
mod lifecycle;
mod linkage;
mod object_store;
mod pg_diff;
mod plan_cache;
mod protocol;
mod psql;
mod reports;
mod scenarios;
mod tls;
