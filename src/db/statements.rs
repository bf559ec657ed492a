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

/// Statement spans a connection keeps open at most.
const MAX_RUNNING: usize = 32;

/// The instrumentation installed on each pooled connection: it shares one counter, and when
/// traces are exported it opens a `db.query` span per statement, a child of whatever runs it (a
/// loader batch, a resolver), given the statement's SQL (never its values) and closed when the
/// statement finishes.
pub struct CountingInstrumentation {
    counter: Arc<StatementCounter>,
    /// The span of each statement started and not yet finished, oldest first: a connection
    /// answers its statements in the order they were sent, so the oldest finishes first. A
    /// statement whose future was dropped never finishes, so at most [`MAX_RUNNING`] are kept.
    running: std::collections::VecDeque<tracing::Span>,
}

impl CountingInstrumentation {
    pub fn new(counter: Arc<StatementCounter>) -> Self {
        Self {
            counter,
            running: std::collections::VecDeque::new(),
        }
    }
}

impl Instrumentation for CountingInstrumentation {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                if self.counter.armed.load(Ordering::Relaxed) {
                    self.counter.record(&query.to_string());
                }
                let span = tracing::debug_span!(
                    target: crate::telemetry::TARGET,
                    "db.query",
                    otel.name = tracing::field::Empty,
                    otel.kind = "client",
                    db.system.name = "postgresql",
                    db.query.text = tracing::field::Empty,
                );
                if !span.is_disabled() {
                    if self.running.len() == MAX_RUNNING {
                        self.running.pop_front();
                    }
                    self.running.push_back(span);
                }
            }
            // The text is written when the statement finishes: this event carries the SQL alone,
            // while rendering the started statement would format its bind values too (measured
            // in bench/otel.sh: rendering at the start was about 5 % of the server's CPU).
            InstrumentationEvent::FinishQuery { query, .. } => {
                if let Some(span) = self.running.pop_front() {
                    let sql = query.to_string();
                    let text = crate::telemetry::statement_text(&sql);
                    // diesel writes its keywords in capitals: the first word names the span.
                    span.record("otel.name", text.split_whitespace().next().unwrap_or("SQL"));
                    span.record("db.query.text", text);
                }
            }
            _ => {}
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
