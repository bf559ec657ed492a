//! The bb8 pool of diesel-async connections, database creation and embedded migrations.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::bb8::{Pool, PooledConnection, RunError};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use futures_util::FutureExt;

use super::statements::{CountingInstrumentation, StatementCounter};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type DbPool = Pool<AsyncPgConnection>;
pub type DbConn = PooledConnection<'static, AsyncPgConnection>;
pub type PoolError = RunError;

/// How long a request waits for a connection before it is answered 503 (connecting to a
/// reachable Postgres takes milliseconds; waiting longer only piles requests up in an outage).
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(1);

/// Builds the pool. Every connection reports its statements to `counter`.
/// Connections are opened lazily, so the pool survives Postgres restarts without a process restart.
pub fn build_pool(database_url: &str, max_size: u32, counter: Arc<StatementCounter>) -> DbPool {
    let mut config = ManagerConfig::default();
    // A dead connection fails its first query and is then dropped by bb8 (`has_broken`), so a
    // round-trip ping on every checkout would only add latency.
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |url| {
        let counter = counter.clone();
        async move {
            let mut conn = AsyncPgConnection::establish(url).await?;
            // The per-post comment and author pages read a few rows each through their index;
            // with the default cost of random reads (tuned for spinning disks) the planner
            // estimates six rows and prefers a bitmap scan plus a sort, three times slower.
            diesel_async::SimpleAsyncConnection::batch_execute(&mut conn, "SET random_page_cost = 1.1")
                .await
                .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
            conn.set_instrumentation(CountingInstrumentation::new(counter));
            Ok(conn)
        }
        .boxed()
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(database_url, config);
    Pool::builder()
        .max_size(max_size)
        .min_idle(Some(max_size.min(2)))
        .connection_timeout(CHECKOUT_TIMEOUT)
        .retry_connection(false)
        .build_unchecked(manager)
}

/// The URL with any password replaced, for messages and logs.
pub fn redact_url(database_url: &str) -> String {
    match url::Url::parse(database_url) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("***"));
            }
            url.to_string()
        }
        Err(_) => "<unparseable url>".to_owned(),
    }
}

/// Splits a database URL into the URL of the server's maintenance database and the database name.
fn maintenance_url(database_url: &str) -> anyhow::Result<(String, String)> {
    let mut url = url::Url::parse(database_url).context("DATABASE_URL is not a URL")?;
    let name = url.path().trim_start_matches('/').to_owned();
    anyhow::ensure!(!name.is_empty(), "DATABASE_URL names no database");
    url.set_path("/postgres");
    Ok((url.to_string(), name))
}

/// Quotes an identifier for DDL, where Postgres accepts no bound parameters.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Creates the database named by `database_url` when it does not exist yet.
pub async fn create_database_if_missing(database_url: &str) -> anyhow::Result<()> {
    let (admin_url, name) = maintenance_url(database_url)?;
    let mut conn = AsyncPgConnection::establish(&admin_url).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot connect to PostgreSQL at {} ({e}); start it (for example `pg_ctlcluster <version> main start` \
             or `docker compose up -d postgres`) or set DATABASE_URL",
            redact_url(database_url)
        )
    })?;
    let exists: bool = diesel::select(diesel::dsl::exists(
        pg_database::table.filter(pg_database::datname.eq(&name)),
    ))
    .get_result(&mut conn)
    .await
    .context("checking whether the database exists")?;
    if !exists {
        match diesel::sql_query(format!("CREATE DATABASE {}", quote_ident(&name)))
            .execute(&mut conn)
            .await
        {
            Ok(_) => tracing::info!(database = %name, "created database"),
            // Another instance may have created it at the same moment.
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {}
            Err(e) if e.to_string().contains("already exists") => {}
            Err(e) => return Err(e).context(format!("creating database {name}")),
        }
    }
    Ok(())
}

/// Applies every pending embedded migration.
pub async fn run_migrations(database_url: &str) -> anyhow::Result<()> {
    let url = database_url.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&url)
            .map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", redact_url(&url)))?;
        // Two instances starting together must not apply the same migration twice.
        conn.batch_execute("SELECT pg_advisory_lock(7204661102)")?;
        let result = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|applied| applied.len());
        conn.batch_execute("SELECT pg_advisory_unlock(7204661102)")?;
        let applied = result.map_err(|e| anyhow::anyhow!("applying migrations: {e}"))?;
        if applied > 0 {
            tracing::info!(applied, "applied migrations");
        }
        Ok(())
    })
    .await
    .context("migration task panicked")?
}

/// Reverts every applied migration; the migrations test proves each down.sql with it.
pub async fn revert_all_migrations(database_url: &str) -> anyhow::Result<()> {
    let url = database_url.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&url)?;
        conn.revert_all_migrations(MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("reverting migrations: {e}"))?;
        Ok(())
    })
    .await
    .context("migration task panicked")?
}

/// Checks that Postgres answers on a pooled connection.
pub async fn ping(pool: &DbPool) -> bool {
    match pool.get().await {
        Ok(mut conn) => diesel::sql_query("SELECT 1").execute(&mut *conn).await.is_ok(),
        Err(_) => false,
    }
}

diesel::table! {
    pg_database (datname) {
        datname -> Text,
    }
}
