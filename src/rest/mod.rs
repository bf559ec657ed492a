//! The legacy REST door (`/api/...`): thin adapters that decode legacy requests, call the
//! service layer and render legacy JSON.

pub mod auth;
pub mod body;
pub mod contract;
pub mod dto;
pub mod openapi;
pub mod posts;
pub mod query;
pub mod requests;
pub mod users;

use axum::extract::{DefaultBodyLimit, OriginalUri, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::json;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::AppError;
use crate::http::client_ip::ClientIp;
use crate::http::health;
use crate::state::AppState;

/// The legacy body limit (express.json's `10mb`).
pub const BODY_LIMIT: usize = 10 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    // Answers that carry tokens or the caller's own account: never stored by a browser or a
    // proxy (`Cache-Control: no-store`).
    let private = Router::new()
        .route("/auth/register", post(auth::register))
        .route("/auth/login", post(auth::login))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/refresh-token", post(auth::refresh_token))
        .route("/auth/logout", post(auth::logout))
        .route("/users/me", get(users::me))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    Router::new()
        .merge(private)
        .route("/health", get(health::health))
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/posts", get(posts::list).post(posts::create))
        .route("/posts/popular", get(posts::popular))
        .route("/posts/by-slug/{slug}", get(posts::detail_by_slug))
        .route(
            "/posts/{id}",
            get(posts::detail).put(posts::update).delete(posts::delete),
        )
        .route("/posts/{id}/comments", post(posts::add_comment))
        .route(
            "/posts/{id}/comments/{comment_id}",
            axum::routing::delete(posts::delete_comment),
        )
        .route("/posts/{id}/like", post(posts::like).delete(posts::unlike))
        .route("/users", get(users::list))
        .route("/users/{id}", get(users::detail).put(users::update))
        .fallback(route_not_found)
        .method_not_allowed_fallback(route_not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// The legacy limiter: RATE_LIMIT_MAX requests per client IP per window on every /api route
/// but health (load balancers poll it).
pub async fn limit_requests(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    request: Request,
    next: Next,
) -> Response {
    let Some(limiter) = state.limiter() else {
        return next.run(request).await;
    };
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map_or(request.uri().path(), |uri| uri.0.path());
    if path == health::PATH {
        return next.run(request).await;
    }
    let quota = state.rest_quota();
    let decision = limiter.charge(&format!("rest:{ip}"), quota, 1).await;
    let mut response = if decision.allowed {
        next.run(request).await
    } else {
        AppError::RateLimited {
            retry_after: decision.retry_after,
        }
        .into_response()
    };
    decision.set_headers(quota, response.headers_mut());
    response
}

/// Unknown routes (and unknown methods on known routes, as express answered them).
pub async fn route_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "success": false, "message": "Route not found" })),
    )
        .into_response()
}
