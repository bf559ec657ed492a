//! `/api/auth/*`: register, login, refresh (also `/refresh-token`), logout.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde_json::json;

use super::body::{Fields, JsonBody};
use super::dto::{LegacyTokens, SessionEnvelope};
use crate::auth::extract::CurrentUser;
use crate::domain::sessions::{self, Registration};
use crate::domain::users::ProfileInput;
use crate::error::{AppError, AppResult, AuthFailure};
use crate::ratelimit::ClientIp;
use crate::state::AppState;

pub async fn register(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    JsonBody(body): JsonBody,
) -> AppResult<impl IntoResponse> {
    let mut fields = Fields::new(&body);
    let username = fields.string("username");
    let email = fields.string("email");
    let password = fields.string("password");
    let profile = fields.object("profile").map(|p| ProfileInput {
        first_name: fields.nested_string("profile", &p, "firstName"),
        last_name: fields.nested_string("profile", &p, "lastName"),
        avatar: fields.nested_string("profile", &p, "avatar"),
        bio: fields.nested_string("profile", &p, "bio"),
    });
    let mut errors = fields.errors;
    for (field, value, message) in [
        ("username", &username, "Username is required"),
        ("email", &email, "Email is required"),
        ("password", &password, "Password is required"),
    ] {
        if value.is_none() && !errors.has(field) {
            errors.add(field, serde_json::Value::Null, message);
        }
    }
    let registration = Registration {
        username: username.unwrap_or_default(),
        email: email.unwrap_or_default(),
        password: password.unwrap_or_default(),
        profile,
    };
    let attempt = state.auth_attempt(ip);
    let session = sessions::register(
        &mut *state.db().await?,
        state.jwt(),
        &attempt,
        registration,
        errors,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionEnvelope::new(session, "User registered successfully")),
    ))
}

pub async fn login(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    JsonBody(body): JsonBody,
) -> AppResult<impl IntoResponse> {
    let mut fields = Fields::new(&body);
    let email = fields.string("email");
    let password = fields.string("password");
    let (Some(email), Some(password)) = (email, password) else {
        return Err(AppError::Unauthenticated(AuthFailure::InvalidCredentials));
    };
    let attempt = state.auth_attempt(ip);
    let session = sessions::login(
        &mut *state.db().await?,
        state.jwt(),
        state.dummy_password_hash(),
        &attempt,
        &email,
        &password,
    )
    .await?;
    Ok(Json(SessionEnvelope::new(session, "Login successful")))
}

pub async fn refresh(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> AppResult<impl IntoResponse> {
    let token = Fields::new(&body).string("refreshToken").unwrap_or_default();
    let session = sessions::refresh(&mut *state.db().await?, state.jwt(), &token).await?;
    Ok(Json(
        json!({ "success": true, "tokens": LegacyTokens::from(session.tokens) }),
    ))
}

pub async fn logout(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    JsonBody(body): JsonBody,
) -> AppResult<impl IntoResponse> {
    let token = Fields::new(&body).string("refreshToken");
    sessions::logout(&mut *state.db().await?, &viewer, token.as_deref()).await?;
    Ok(Json(json!({ "success": true, "message": "Logout successful" })))
}
