//! `blog-gateway serve`: prepare the database, then serve until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{Config, LogFormat};
use crate::db::pool::{create_database_if_missing, redact_url, run_migrations};
use crate::domain::sessions;
use crate::{build_app, build_state};

/// How often expired refresh tokens are deleted.
const PURGE_INTERVAL: Duration = Duration::from_secs(3600);

/// Logs (RUST_LOG, LOG_FORMAT) and, when the `OTEL_*` variables ask for it, exported traces
/// (`telemetry`). Each has its own filter: the spans only the exporter records are never built
/// for the logs.
pub fn init_tracing(config: &Config) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,tower_http=info"));
    let logs = match config.log_format() {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(logs.with_filter(filter))
        .with(crate::telemetry::layer())
        .try_init();
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    config
        .validate()
        .map_err(|e| anyhow::anyhow!("configuration error: {e}"))?;
    init_tracing(&config);
    if !config.rate_limit_enabled {
        tracing::warn!("rate limiting is disabled (RATE_LIMIT_ENABLED=false)");
    }
    if config.jwt_secret.is_none() {
        tracing::warn!("JWT_SECRET is unset: using a random key, so tokens die with this process");
    }
    create_database_if_missing(&config.database_url).await?;
    run_migrations(&config.database_url)
        .await
        .with_context(|| format!("migrating {}", redact_url(&config.database_url)))?;
    if let Some(dir) = &config.trusted_documents_dir {
        let count = super::load_folder(&config.database_url, dir).await?;
        tracing::info!(count, dir = %dir.display(), "registered trusted documents");
    }
    let address = SocketAddr::new(config.host, config.port);
    let header_read_timeout = Duration::from_secs(config.header_read_timeout_secs);
    let drain = Duration::from_secs(config.request_timeout_secs);
    let state = build_state(config).await?;
    spawn_token_purge(state.clone());
    crate::http::metrics::spawn_upkeep();
    let app = build_app(state);
    let listener = tokio::net::TcpListener::bind(address).await.with_context(|| {
        format!("cannot listen on {address} (is another server using the port? set PORT)")
    })?;
    tracing::info!(%address, "blog-gateway listening; GraphiQL at http://{address}/graphql");
    crate::http::server::serve(listener, app, header_read_timeout, drain, shutdown_signal()).await;
    crate::telemetry::shutdown();
    tracing::info!("shut down cleanly");
    Ok(())
}

fn spawn_token_purge(state: crate::state::AppState) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(PURGE_INTERVAL);
        loop {
            ticker.tick().await;
            let purged = match state.db().await {
                Ok(mut conn) => sessions::purge_expired(&mut conn).await,
                Err(e) => Err(e),
            };
            match purged {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "purged expired refresh tokens"),
                Err(error) => tracing::warn!(?error, "could not purge expired refresh tokens"),
            }
        }
    });
}

/// Resolves on SIGINT or SIGTERM; in-flight requests then finish before the server exits.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received, finishing in-flight requests");
}
