//! `GET /api/health` in the legacy shape: `{uptime, timestamp, status, services:{database, redis}}`,
//! plus `replicas` when DATABASE_READ_URLS is set.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::state::AppState;

/// How long a dependency may take to answer before it counts as down (load balancers and the
/// container health check poll with short timeouts of their own).
const CHECK_TIMEOUT: Duration = Duration::from_millis(800);
/// Where the health check answers (load balancers poll it: never rate-limited or cached).
pub const PATH: &str = "/api/health";

#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ServiceStatus {
    Ok,
    Error,
    Disabled,
}

#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum OverallStatus {
    Ok,
    Degraded,
    Error,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Services {
    database: ServiceStatus,
    redis: ServiceStatus,
}

#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ReplicaState {
    /// Serving reads.
    Up,
    /// Answering, but further behind than DATABASE_READ_MAX_LAG: skipped until it catches up.
    Lagging,
    /// Not answering (or a read just failed on it): skipped until a check passes.
    Down,
}

/// One read replica, as its instance's last check (every 200 ms) found it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaHealth {
    /// Its URL without the password.
    name: String,
    status: ReplicaState,
    /// How far behind the primary it is, in milliseconds (absent while down).
    #[serde(skip_serializing_if = "Option::is_none")]
    lag_ms: Option<u64>,
    /// The WAL position it has replayed up to, as Postgres prints it.
    replay_lsn: String,
    /// Why it is down.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    uptime: f64,
    timestamp: String,
    status: OverallStatus,
    services: Services,
    /// The read replicas, when configured; one that is not UP makes the status DEGRADED
    /// (its reads go to the primary).
    #[serde(skip_serializing_if = "Option::is_none")]
    replicas: Option<Vec<ReplicaHealth>>,
}

fn replicas(state: &AppState) -> Option<Vec<ReplicaHealth>> {
    let replicas = state.replicas()?;
    let max_lag = replicas.max_lag();
    Some(
        replicas
            .statuses()
            .into_iter()
            .map(|status| ReplicaHealth {
                status: match status.lag {
                    _ if !status.up => ReplicaState::Down,
                    Some(lag) if lag <= max_lag => ReplicaState::Up,
                    _ => ReplicaState::Lagging,
                },
                lag_ms: status
                    .lag
                    .map(|lag| u64::try_from(lag.as_millis()).unwrap_or(u64::MAX)),
                replay_lsn: status.replayed.to_string(),
                error: status.error,
                name: status.name,
            })
            .collect(),
    )
}

async fn check_database(state: &AppState) -> ServiceStatus {
    match tokio::time::timeout(CHECK_TIMEOUT, crate::db::pool::ping(state.pool())).await {
        Ok(true) => ServiceStatus::Ok,
        _ => ServiceStatus::Error,
    }
}

async fn check_redis(state: &AppState) -> ServiceStatus {
    let Some(redis) = state.redis() else {
        return ServiceStatus::Disabled;
    };
    let mut conn = redis.clone();
    let ping = async move { redis::cmd("PING").query_async::<String>(&mut conn).await };
    match tokio::time::timeout(CHECK_TIMEOUT, ping).await {
        Ok(Ok(_)) => ServiceStatus::Ok,
        _ => ServiceStatus::Error,
    }
}

/// `GET /api/health`: 200 when the database answers (DEGRADED if only Redis is down), else 503.
#[utoipa::path(get, operation_id = "getHealth", path = "/api/health", tag = "meta",
    responses(
        (status = 200, description = "OK, or DEGRADED when only Redis or a read replica is down", body = Health),
        (status = 503, description = "ERROR: the database is down", body = Health),
    ))]
pub async fn health(State(state): State<AppState>) -> Response {
    let (database, redis) = tokio::join!(check_database(&state), check_redis(&state));
    let replicas = replicas(&state);
    let replica_missing = replicas
        .iter()
        .flatten()
        .any(|replica| replica.status != ReplicaState::Up);
    let status = match (database, redis) {
        (ServiceStatus::Ok, ServiceStatus::Error) => OverallStatus::Degraded,
        (ServiceStatus::Ok, _) if replica_missing => OverallStatus::Degraded,
        (ServiceStatus::Ok, _) => OverallStatus::Ok,
        _ => OverallStatus::Error,
    };
    let code = if status == OverallStatus::Error {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let body = Health {
        uptime: state.uptime_secs(),
        timestamp: crate::domain::time::rfc3339_millis(chrono::Utc::now()),
        status,
        services: Services { database, redis },
        replicas,
    };
    (code, Json(body)).into_response()
}
