//! Memory for queries: one pool for the engine, a share of it per statement.
//!
//! DataFusion's `FairSpillPool` divides its pool among every spillable
//! operator registered — of every running statement. Under load (200
//! clients, the load benchmark) each operator's share fell to a few
//! megabytes and ordinary city-wide GROUP BYs failed with 53200 while the
//! process used half its limit. So statements take memory first come, first
//! served from the engine's pool (DataFusion's `GreedyMemoryPool`), and each
//! statement at most its share (PostgreSQL's `work_mem` is per operator;
//! this is per statement): an operator that can spill spills at the share,
//! one that cannot fails that statement with 53200, and the others go on.

use datafusion::common::{resources_datafusion_err, Result};
use datafusion::execution::memory_pool::{
    MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// One statement's view of the engine's pool: at most `share` bytes.
#[derive(Debug)]
pub(crate) struct StatementPool {
    engine: Arc<dyn MemoryPool>,
    share: usize,
    used: AtomicUsize,
}

impl StatementPool {
    pub(crate) fn new(engine: Arc<dyn MemoryPool>, share: usize) -> StatementPool {
        StatementPool {
            engine,
            share,
            used: AtomicUsize::new(0),
        }
    }
}

impl std::fmt::Display for StatementPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "statement share of {} MB", self.share >> 20)
    }
}

impl MemoryPool for StatementPool {
    fn name(&self) -> &str {
        "statement share"
    }

    fn register(&self, consumer: &MemoryConsumer) {
        self.engine.register(consumer)
    }

    fn unregister(&self, consumer: &MemoryConsumer) {
        self.engine.unregister(consumer)
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.used.fetch_add(additional, Ordering::Relaxed);
        self.engine.grow(reservation, additional)
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.used.fetch_sub(shrink, Ordering::Relaxed);
        self.engine.shrink(reservation, shrink)
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> Result<()> {
        let before = self.used.fetch_add(additional, Ordering::Relaxed);
        if before + additional > self.share {
            self.used.fetch_sub(additional, Ordering::Relaxed);
            return Err(resources_datafusion_err!(
                "the statement needs more than its share of memory ({} MB; {} MB in use, {} MB more asked by {}): aggregate or filter more, or ask the administrator for a larger --query-memory-mb",
                self.share >> 20,
                before >> 20,
                additional.div_ceil(1 << 20),
                reservation.consumer().name()
            ));
        }
        if let Err(e) = self.engine.try_grow(reservation, additional) {
            self.used.fetch_sub(additional, Ordering::Relaxed);
            return Err(e);
        }
        Ok(())
    }

    fn reserved(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    fn memory_limit(&self) -> MemoryLimit {
        MemoryLimit::Finite(self.share)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::execution::memory_pool::GreedyMemoryPool;

    #[test]
    fn a_statement_stops_at_its_share_and_gives_it_back() {
        let engine: Arc<dyn MemoryPool> = Arc::new(GreedyMemoryPool::new(100 << 20));
        let a = Arc::new(StatementPool::new(engine.clone(), 30 << 20)) as Arc<dyn MemoryPool>;
        let b = Arc::new(StatementPool::new(engine.clone(), 30 << 20)) as Arc<dyn MemoryPool>;
        let ra = MemoryConsumer::new("HashJoinInput").register(&a);
        let rb = MemoryConsumer::new("GroupedHashAggregateStream").register(&b);
        ra.try_grow(25 << 20).unwrap();
        let err = ra.try_grow(10 << 20).unwrap_err().to_string();
        assert!(
            err.contains("share of memory (30 MB") && err.contains("HashJoinInput"),
            "{err}"
        );
        // The other statement is not affected.
        rb.try_grow(25 << 20).unwrap();
        assert_eq!(engine.reserved(), 50 << 20);
        ra.free();
        assert_eq!(a.reserved(), 0);
        assert_eq!(engine.reserved(), 25 << 20);
        ra.try_grow(29 << 20).unwrap();
    }
}
