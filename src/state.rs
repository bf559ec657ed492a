//! Shared application state: cheap to clone, built once at start (and once per test).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::auth::jwt::JwtKeys;
use crate::config::Config;
use crate::db::replicas::{Reads, Replicas};
use crate::db::statements::StatementCounter;
use crate::db::{DbConn, DbPool};
use crate::domain::changes::EntityTag;
use crate::domain::page_marks::PageMarks;
use crate::domain::viewer::Viewer;
use crate::error::AppResult;
use crate::events::EventBus;
use crate::ratelimit::{AuthAttempt, Quota, RateLimiter};
use crate::redis_link::RedisLink;
use crate::response_cache::{Fill, ResponseCache};

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    /// Parsed configuration.
    config: Arc<Config>,
    /// Pooled Postgres connections.
    pool: DbPool,
    /// Counts the statements sent on every pooled connection.
    statements: Arc<StatementCounter>,
    /// Read replicas, when DATABASE_READ_URLS is set.
    replicas: Option<Arc<Replicas>>,
    /// Access-token keys.
    jwt: JwtKeys,
    /// A hash verified when a login names an unknown email, so both cases cost the same.
    dummy_password_hash: String,
    /// Redis connection, when REDIS_URL is set.
    redis: Option<RedisLink>,
    /// Subscription events (relayed through Redis when configured).
    events: EventBus,
    /// Anonymous response cache (Redis when configured, else in process).
    cache: ResponseCache,
    /// Shared rate limits (Redis when configured, else in process).
    limiter: RateLimiter,
    /// Where the legacy list's deep pages start, per list (see `domain::page_marks`).
    page_marks: PageMarks,
    /// When the process started (for health `uptime`).
    started: Instant,
}

/// The parts an [`AppState`] is assembled from.
pub struct StateParts {
    pub config: Arc<Config>,
    pub pool: DbPool,
    pub statements: Arc<StatementCounter>,
    pub replicas: Option<Arc<Replicas>>,
    pub jwt: JwtKeys,
    pub dummy_password_hash: String,
    pub redis: Option<RedisLink>,
    pub events: EventBus,
}

impl AppState {
    pub fn new(parts: StateParts) -> Self {
        let limiter = RateLimiter::new(parts.redis.clone(), &parts.config.redis_prefix);
        // A fill stores its answer at most a replica's lag bound plus a request's time after
        // the write it may have missed: stamps outlive entries by that, and a minute more.
        let stamp_margin = std::time::Duration::from_secs(60 + parts.config.request_timeout_secs)
            + parts.config.database_read_max_lag;
        let cache = ResponseCache::new(
            parts.redis.clone(),
            &parts.config.redis_prefix,
            std::time::Duration::from_secs(parts.config.cache_ttl_secs),
            stamp_margin,
        );
        Self {
            inner: Arc::new(Inner {
                config: parts.config,
                pool: parts.pool,
                statements: parts.statements,
                replicas: parts.replicas,
                jwt: parts.jwt,
                dummy_password_hash: parts.dummy_password_hash,
                redis: parts.redis,
                events: parts.events,
                limiter,
                page_marks: PageMarks::default(),
                cache,
                started: Instant::now(),
            }),
        }
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn pool(&self) -> &DbPool {
        &self.inner.pool
    }

    /// The remembered starts of the legacy list's deep pages.
    pub fn page_marks(&self) -> &PageMarks {
        &self.inner.page_marks
    }

    /// A pooled connection, or 503 when Postgres cannot be reached in time.
    pub async fn db(&self) -> AppResult<DbConn> {
        Ok(self.inner.pool.get_owned().await?)
    }

    /// The read replicas, when configured.
    pub fn replicas(&self) -> Option<&Arc<Replicas>> {
        self.inner.replicas.as_ref()
    }

    /// Where a read-only request of `viewer` reads: a replica that has replayed the viewer's own
    /// last write, or the primary.
    pub async fn reads_for(&self, viewer: Option<&Viewer>) -> Reads {
        Reads::for_caller(
            &self.inner.pool,
            self.inner.replicas.as_ref(),
            viewer.map(|v| (v.id, v.token_issued_at)),
        )
        .await
    }

    /// The start of an anonymous answer that will be stored in the response cache: where it
    /// reads, and that server's position (`None`: not stored).
    pub async fn begin_fill(&self) -> Option<Fill> {
        Fill::begin(self.reads_for(None).await).await
    }

    /// Reads of a request that writes: all on the primary.
    pub fn primary_reads(&self) -> Reads {
        Reads::primary(&self.inner.pool)
    }

    /// After a write, before it is answered: invalidates the cached answers that depend on what
    /// it `changed` and, with replicas, keeps the writer's reads on servers that have replayed
    /// it. A write that changed nothing readers see (a login, a view) costs nothing here.
    pub async fn after_write(&self, writer: Option<uuid::Uuid>, changed: &[EntityTag]) {
        if changed.is_empty() {
            return;
        }
        let written = crate::db::replicas::after_commit(&self.inner.pool).await;
        if let (Some(replicas), Some(writer)) = (&self.inner.replicas, writer) {
            replicas.wrote(writer, written).await;
        }
        self.inner.cache.invalidate(written, changed).await;
    }

    pub fn statements(&self) -> &StatementCounter {
        &self.inner.statements
    }

    pub fn jwt(&self) -> &JwtKeys {
        &self.inner.jwt
    }

    pub fn dummy_password_hash(&self) -> &str {
        &self.inner.dummy_password_hash
    }

    pub fn redis(&self) -> Option<&RedisLink> {
        self.inner.redis.as_ref()
    }

    /// The response cache. Writes always invalidate it; reads use it only when CACHE_ENABLED.
    pub fn cache(&self) -> &ResponseCache {
        &self.inner.cache
    }

    /// Whether anonymous reads may be answered from (and stored in) the cache.
    pub fn cache_reads(&self) -> bool {
        self.inner.config.cache_enabled
    }

    pub fn events(&self) -> &EventBus {
        &self.inner.events
    }

    /// The limiter, or `None` when RATE_LIMIT_ENABLED is false.
    pub fn limiter(&self) -> Option<&RateLimiter> {
        self.inner
            .config
            .rate_limit_enabled
            .then_some(&self.inner.limiter)
    }

    /// REST requests per client IP.
    pub fn rest_quota(&self) -> Quota {
        Quota {
            limit: self.inner.config.rate_limit_max,
            window: self.inner.config.rate_limit_window(),
        }
    }

    /// GraphQL cost points per user or IP.
    pub fn graphql_quota(&self) -> Quota {
        Quota {
            limit: self.inner.config.graphql_rate_limit_points,
            window: self.inner.config.rate_limit_window(),
        }
    }

    /// A login or register attempt from `ip`.
    pub fn auth_attempt(&self, ip: IpAddr) -> AuthAttempt<'_> {
        AuthAttempt {
            limiter: self.limiter(),
            quota: Quota {
                limit: self.inner.config.auth_rate_limit_max,
                window: self.inner.config.rate_limit_window(),
            },
            ip,
        }
    }

    pub fn uptime_secs(&self) -> f64 {
        self.inner.started.elapsed().as_secs_f64()
    }
}
