//! What only the GraphQL door needs, built once by `app.rs` and handed to the GraphQL routes:
//! the schema, the parsed-document cache, the persisted-document store and the execution turns.
//! [`AppState`] keeps what both doors share (pool, cache, limiter, events, keys).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

use super::parsed::ParsedDocuments;
use super::persisted::DocumentStore;
use super::{GatewaySchema, build_schema};
use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// How long an operation waits for a free execution turn before it is answered 503.
const EXECUTION_WAIT: Duration = Duration::from_secs(2);

/// The state of the GraphQL routes: the shared [`AppState`] and the GraphQL runtime.
#[derive(Clone)]
pub struct Gateway {
    app: AppState,
    runtime: Arc<Runtime>,
}

struct Runtime {
    schema: GatewaySchema,
    parsed: ParsedDocuments,
    documents: DocumentStore,
    executions: Semaphore,
}

impl Gateway {
    pub fn new(app: AppState) -> Self {
        let config = app.config();
        let runtime = Runtime {
            schema: build_schema(config),
            parsed: ParsedDocuments::default(),
            documents: DocumentStore::new(app.redis().cloned(), &config.redis_prefix),
            executions: Semaphore::new(execution_slots(config)),
        };
        Self {
            app,
            runtime: Arc::new(runtime),
        }
    }

    /// What both doors share.
    pub fn app(&self) -> &AppState {
        &self.app
    }

    pub fn schema(&self) -> &GatewaySchema {
        &self.runtime.schema
    }

    /// Parsed GraphQL documents by query text.
    pub fn parsed_documents(&self) -> &ParsedDocuments {
        &self.runtime.parsed
    }

    /// Persisted and trusted GraphQL documents.
    pub fn documents(&self) -> &DocumentStore {
        &self.runtime.documents
    }

    /// Waits for a turn to execute a GraphQL operation (the turn ends when the permit drops), at
    /// most EXECUTION_WAIT: a caller that holds every turn with slow operations gets others a
    /// quick 503, not a queue that lasts until the request timeout.
    pub async fn execution_turn(&self) -> AppResult<SemaphorePermit<'_>> {
        match tokio::time::timeout(EXECUTION_WAIT, self.runtime.executions.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed; a timeout is the only way here.
            Ok(Err(_)) | Err(_) => Err(AppError::Busy),
        }
    }

    /// Turns free right now.
    pub fn free_execution_turns(&self) -> usize {
        self.runtime.executions.available_permits()
    }
}

/// GRAPHQL_MAX_CONCURRENCY, or three operations per CPU core: enough to keep the cores busy
/// while some operations wait for Postgres.
fn execution_slots(config: &Config) -> usize {
    config
        .graphql_max_concurrency
        .unwrap_or_else(|| 3 * std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get))
}
