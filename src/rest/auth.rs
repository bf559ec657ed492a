//! `/api/auth/*`: register, login, refresh (also `/refresh-token`), logout.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};

use super::body::{JsonBody, validated};
use super::dto::LegacyErrors;
use super::dto::{LegacyTokens, Message, SessionEnvelope, TokensEnvelope};
use super::requests::{LoginBody, LogoutBody, RefreshBody, RegisterBody};
use crate::domain::sessions;
use crate::error::{AppError, AppResult, AuthFailure};
use crate::http::caller::{Changed, CurrentUser};
use crate::http::client_ip::ClientIp;
use crate::state::AppState;

#[utoipa::path(post, operation_id = "register", path = "/api/auth/register", tag = "auth", request_body = RegisterBody,
    responses((status = 201, description = "User registered successfully", body = SessionEnvelope), LegacyErrors))]
pub async fn register(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Changed(changed): Changed,
    JsonBody(body): JsonBody,
) -> AppResult<(StatusCode, Json<SessionEnvelope>)> {
    let (mut registration, decoded) = RegisterBody::decode(&body);
    let attempt = state.auth_attempt(ip);
    if !decoded.is_empty() {
        // Every failing field at once, and nothing registered.
        validated(
            decoded,
            sessions::check_registration(&attempt, &mut registration).await,
        )?;
    }
    let session = sessions::register(state.pool(), state.jwt(), &changed, &attempt, registration).await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionEnvelope::new(session, "User registered successfully")),
    ))
}

#[utoipa::path(post, operation_id = "login", path = "/api/auth/login", tag = "auth", request_body = LoginBody,
    responses((status = 200, description = "Login successful", body = SessionEnvelope), LegacyErrors))]
pub async fn login(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    JsonBody(body): JsonBody,
) -> AppResult<Json<SessionEnvelope>> {
    let Some((email, password)) = LoginBody::decode(&body) else {
        return Err(AppError::Unauthenticated(AuthFailure::InvalidCredentials));
    };
    let attempt = state.auth_attempt(ip);
    let session = sessions::login(
        state.pool(),
        state.jwt(),
        state.dummy_password_hash(),
        &attempt,
        &email,
        &password,
    )
    .await?;
    Ok(Json(SessionEnvelope::new(session, "Login successful")))
}

#[utoipa::path(post, operation_id = "refreshTokens", path = "/api/auth/refresh", tag = "auth", request_body = RefreshBody,
    responses((status = 200, description = "A new token pair; the old refresh token stops working", body = TokensEnvelope), LegacyErrors))]
pub async fn refresh(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> AppResult<Json<TokensEnvelope>> {
    let token = RefreshBody::decode(&body).unwrap_or_default();
    let session = sessions::refresh(&mut *state.db().await?, state.jwt(), &token).await?;
    Ok(Json(TokensEnvelope {
        success: true,
        tokens: LegacyTokens::from(session.tokens),
    }))
}

/// The legacy alias of `/api/auth/refresh`.
#[utoipa::path(post, operation_id = "refreshTokensLegacy", path = "/api/auth/refresh-token", tag = "auth", request_body = RefreshBody,
    responses((status = 200, description = "A new token pair; the old refresh token stops working", body = TokensEnvelope), LegacyErrors))]
pub async fn refresh_token(state: State<AppState>, body: JsonBody) -> AppResult<Json<TokensEnvelope>> {
    refresh(state, body).await
}

#[utoipa::path(post, operation_id = "logout", path = "/api/auth/logout", tag = "auth", security(("bearer" = [])),
    request_body(content = LogoutBody, description = "Optional: no body revokes every refresh token of the user"),
    responses((status = 200, description = "Logout successful: the given refresh token, or every one when none is given, is revoked", body = Message), LegacyErrors))]
pub async fn logout(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    JsonBody(body): JsonBody,
) -> AppResult<Json<Message>> {
    let token = RefreshBody::decode(&body);
    sessions::logout(&mut *state.db().await?, &viewer, token.as_deref()).await?;
    Ok(Json(Message::new("Logout successful")))
}
