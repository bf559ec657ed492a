//! The legacy REST door (`/api/...`): thin adapters that decode legacy requests, call the
//! service layer and render legacy JSON.

pub mod auth;
pub mod body;
pub mod dto;
pub mod posts;
pub mod query;
pub mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::http::health;
use crate::state::AppState;

/// The legacy body limit (express.json's `10mb`).
pub const BODY_LIMIT: usize = 10 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health::health))
        .route("/auth/register", post(auth::register))
        .route("/auth/login", post(auth::login))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/refresh-token", post(auth::refresh))
        .route("/auth/logout", post(auth::logout))
        .route("/posts", get(posts::list).post(posts::create))
        .route("/posts/popular", get(posts::popular))
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
        .route("/users/me", get(users::me))
        .route("/users/{id}", get(users::detail).put(users::update))
        .fallback(route_not_found)
        .method_not_allowed_fallback(route_not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// Unknown routes (and unknown methods on known routes, as express answered them).
pub async fn route_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "success": false, "message": "Route not found" })),
    )
        .into_response()
}
