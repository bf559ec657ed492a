//! Counts the SQL statements sent on every pooled connection, through diesel's instrumentation.
//! Tests use it to prove that a request costs a fixed number of statements (no N+1). It counts
//! only once armed by [`StatementCounter::reset`]: telling a query from transaction control
//! renders the statement's SQL, which no server request should pay for.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use diesel::connection::{Instrumentation, InstrumentationEvent};

/// Statement counts, split so that transaction control and pool pings do not hide real queries.
#[derive(Debug, Default)]
pub struct StatementCounter {
    armed: AtomicBool,
    queries: AtomicU64,
    transaction_control: AtomicU64,
    pings: AtomicU64,
}

/// A snapshot of [`StatementCounter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatementCounts {
    /// Statements that read or write data.
    pub queries: u64,
    /// BEGIN, COMMIT, ROLLBACK and savepoints.
    pub transaction_control: u64,
    /// Liveness checks of pooled connections.
    pub pings: u64,
}

impl StatementCounter {
    pub fn snapshot(&self) -> StatementCounts {
        StatementCounts {
            queries: self.queries.load(Ordering::Relaxed),
            transaction_control: self.transaction_control.load(Ordering::Relaxed),
            pings: self.pings.load(Ordering::Relaxed),
        }
    }

    /// Starts counting from zero.
    pub fn reset(&self) {
        self.armed.store(true, Ordering::Relaxed);
        self.queries.store(0, Ordering::Relaxed);
        self.transaction_control.store(0, Ordering::Relaxed);
        self.pings.store(0, Ordering::Relaxed);
    }

    fn record(&self, sql: &str) {
        let head = sql.trim_start();
        let upper: String = head.chars().take(18).collect::<String>().to_ascii_uppercase();
        let bucket = if ["BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT"]
            .iter()
            .any(|kw| upper.starts_with(kw))
        {
            &self.transaction_control
        } else if upper == "SELECT $1" || upper == "SELECT 1" {
            &self.pings
        } else {
            &self.queries
        };
        bucket.fetch_add(1, Ordering::Relaxed);
    }
}

/// The instrumentation installed on each pooled connection; it shares one counter.
pub struct CountingInstrumentation(pub Arc<StatementCounter>);

impl Instrumentation for CountingInstrumentation {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { query, .. } = event
            && self.0.armed.load(Ordering::Relaxed)
        {
            self.0.record(&query.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_bucketed() {
        let counter = StatementCounter::default();
        counter.record("BEGIN");
        counter.record("COMMIT");
        counter.record("SELECT $1");
        counter.record("SELECT \"posts\".\"id\" FROM \"posts\"");
        counter.record("  select * from users");
        assert_eq!(
            counter.snapshot(),
            StatementCounts {
                queries: 2,
                transaction_control: 2,
                pings: 1
            }
        );
        counter.reset();
        assert_eq!(counter.snapshot(), StatementCounts::default());
    }
}
