//! Operations metrics: what an operator watches on a dashboard (statements
//! by outcome, their latency, rows and bytes out, sessions, memory in use,
//! audit write latency), in Prometheus' text format through
//! `prometheus-client`. The front end serves them over HTTP and adds its
//! own (sessions, bytes out) to the same registry.
//!
//! Counted where every statement already ends: its audit record. Nothing
//! here names a user, an area or a statement — only totals.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Metric, Registry};
use std::sync::Mutex;

/// The engine's metrics and the registry the front end adds to.
pub struct Metrics {
    registry: Mutex<Registry>,
    /// Statements ended, by audit status.
    statements: Family<Vec<(&'static str, &'static str)>, Counter>,
    /// Seconds from a statement's start to its end (its record).
    latency: Histogram,
    /// Rows statements returned.
    rows: Counter,
    /// Statements running now.
    running: Gauge,
    /// Logins refused (wrong password or unknown user).
    failed_logins: Counter,
    /// Seconds one audit record took to write and sync.
    audit_writes: Histogram,
    /// Audit records that could not be written.
    audit_failures: Counter,
    /// Bytes of memory running queries hold in the pool.
    memory: Gauge,
    /// Statements whose plan was sent to the cluster.
    on_cluster: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let m = Metrics {
            registry: Mutex::new(Registry::with_prefix("zhenjie")),
            statements: Family::default(),
            latency: Histogram::new(exponential_buckets(0.0005, 2.5, 14)),
            rows: Counter::default(),
            running: Gauge::default(),
            failed_logins: Counter::default(),
            audit_writes: Histogram::new(exponential_buckets(0.00005, 2.5, 12)),
            audit_failures: Counter::default(),
            memory: Gauge::default(),
            on_cluster: Counter::default(),
        };
        m.register(
            "statements",
            "Statements ended, by audit status",
            m.statements.clone(),
        );
        m.register(
            "statement_duration_seconds",
            "Time from a statement's start to its end",
            m.latency.clone(),
        );
        m.register("rows_out", "Rows statements returned", m.rows.clone());
        m.register(
            "statements_running",
            "Statements running now",
            m.running.clone(),
        );
        m.register(
            "failed_logins",
            "Logins refused: wrong password or unknown user",
            m.failed_logins.clone(),
        );
        m.register(
            "audit_write_seconds",
            "Time to append and sync one audit record",
            m.audit_writes.clone(),
        );
        m.register(
            "audit_write_failures",
            "Audit records that could not be written",
            m.audit_failures.clone(),
        );
        m.register(
            "statements_on_cluster",
            "Statements whose plan was sent to the cluster",
            m.on_cluster.clone(),
        );
        m.register(
            "memory_pool_bytes",
            "Memory running queries hold in the pool",
            m.memory.clone(),
        );
        m
    }
}

impl Metrics {
    /// Adds a metric (the front end's) to the registry.
    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        self.registry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .register(name, help, metric);
    }

    /// Every metric in Prometheus' text format.
    pub(crate) fn encode(&self, memory_in_use: usize) -> String {
        self.memory.set(memory_in_use as i64);
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &registry);
        out
    }

    /// A statement ended: its audit status, seconds and rows.
    pub(crate) fn ended(&self, status: &'static str, seconds: f64, rows: u64) {
        self.statements
            .get_or_create(&vec![("status", status)])
            .inc();
        self.latency.observe(seconds);
        self.rows.inc_by(rows);
    }

    /// A statement's plan went to the cluster.
    #[cfg(feature = "cluster")]
    pub(crate) fn on_cluster(&self) {
        self.on_cluster.inc();
    }

    /// A login was refused.
    pub(crate) fn failed_login(&self) {
        self.failed_logins.inc();
    }

    /// An audit record was written (or not) in `seconds`.
    pub(crate) fn audit_written(&self, seconds: f64, ok: bool) {
        self.audit_writes.observe(seconds);
        if !ok {
            self.audit_failures.inc();
        }
    }

    /// Counts a statement as running until the returned guard drops.
    pub(crate) fn running(&self) -> Running {
        self.running.inc();
        Running(self.running.clone())
    }
}

/// A running statement, counted until dropped.
pub(crate) struct Running(Gauge);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_names_every_metric_with_its_values() {
        let m = Metrics::default();
        m.ended("ok", 0.002, 5);
        m.ended("ok", 0.004, 1);
        m.ended("denied", 0.001, 0);
        let running = m.running();
        m.audit_written(0.0003, true);
        let text = m.encode(4096);
        assert!(
            text.contains("zhenjie_statements_total{status=\"ok\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("zhenjie_statements_total{status=\"denied\"} 1"),
            "{text}"
        );
        assert!(text.contains("zhenjie_rows_out_total 6"), "{text}");
        assert!(text.contains("zhenjie_statements_running 1"), "{text}");
        assert!(text.contains("zhenjie_memory_pool_bytes 4096"), "{text}");
        assert!(
            text.contains("zhenjie_statement_duration_seconds_count 3"),
            "{text}"
        );
        assert!(
            text.contains("zhenjie_audit_write_seconds_count 1"),
            "{text}"
        );
        drop(running);
        assert!(m.encode(0).contains("zhenjie_statements_running 0"));
    }
}
