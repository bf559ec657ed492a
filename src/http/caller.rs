//! Resolving the caller of a request, for both doors (HTTP headers, a WebSocket's token), and
//! the axum extractors built on it.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::db::replicas::Reads;
use crate::domain::changes::TagSet;
use crate::domain::users;
use crate::domain::viewer::Viewer;
use crate::error::{AppError, AppResult, AuthFailure};
use crate::state::AppState;

/// Extracts the token of an `Authorization` header value; `None` when no token is given.
/// Like the legacy service, a bare token without the `Bearer ` prefix is accepted.
pub fn bearer_token(header: Option<&str>) -> Option<&str> {
    let value = header?.trim();
    let token = match value.get(..6) {
        Some(scheme)
            if scheme.eq_ignore_ascii_case("bearer")
                && value[6..].chars().next().is_none_or(char::is_whitespace) =>
        {
            value[6..].trim()
        }
        _ => value,
    };
    (!token.is_empty()).then_some(token)
}

/// The active user behind the request's token; `None` only when no token was sent. A token that
/// is present but invalid, expired, or belongs to a deactivated user fails the request.
pub async fn viewer_from_headers(state: &AppState, headers: &HeaderMap) -> AppResult<Option<Viewer>> {
    match token_in(headers)? {
        Some(token) => viewer_from_token(state, token).await.map(Some),
        None => Ok(None),
    }
}

/// The access token of an `Authorization` header; `None` when none is sent.
fn token_in(headers: &HeaderMap) -> AppResult<Option<&str>> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let header = value
        .to_str()
        .map_err(|_| AppError::Unauthenticated(AuthFailure::InvalidToken))?;
    Ok(bearer_token(Some(header)))
}

/// The user a valid token of `headers` names, without loading them (a request that wrote
/// has already been let through by [`viewer_from_headers`]).
pub fn token_subject(state: &AppState, headers: &HeaderMap) -> Option<uuid::Uuid> {
    let token = token_in(headers).ok()??;
    state.jwt().verify(token).ok().map(|claims| claims.sub)
}

/// The active user behind an access token (a WebSocket holds the token of its
/// `connection_init`, not headers).
pub async fn viewer_from_token(state: &AppState, token: &str) -> AppResult<Viewer> {
    let claims = state.jwt().verify(token).map_err(AppError::Unauthenticated)?;
    let mut conn = state.db().await?;
    users::load_viewer(&mut conn, claims.sub, claims.iat).await
}

/// A signed-in caller; rejects with 401 "Access denied. No token provided." otherwise.
pub struct CurrentUser(pub Viewer);

/// An optional caller: anonymous when no token is sent, rejected when a bad one is.
pub struct MaybeUser(pub Option<Viewer>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(resolved) = parts.extensions.get::<ResolvedViewer>() {
            return Ok(MaybeUser(resolved.0.clone()));
        }
        let viewer = viewer_from_headers(state, &parts.headers).await?;
        parts.extensions.insert(ResolvedViewer(viewer.clone()));
        Ok(MaybeUser(viewer))
    }
}

/// What a REST write changed: the service layer adds to it, and the cache layer (which put it
/// in the request) invalidates those tags once the write has answered.
pub struct Changed(pub TagSet);

impl FromRequestParts<AppState> for Changed {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<TagSet>()
            .cloned()
            .map(Changed)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("a write route outside the cache layer")))
    }
}

/// Where a REST read reads (`db::replicas`): a replica unless the caller has just written. Only
/// for handlers that do not write.
pub struct ReplicaReads(pub Reads);

impl FromRequestParts<AppState> for ReplicaReads {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let MaybeUser(viewer) = MaybeUser::from_request_parts(parts, state).await?;
        // A cache fill chose the server already (and read its position there).
        if let Some(reads) = parts.extensions.get::<Reads>() {
            return Ok(Self(reads.clone()));
        }
        Ok(Self(state.reads_for(viewer.as_ref()).await))
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let MaybeUser(viewer) = MaybeUser::from_request_parts(parts, state).await?;
        viewer
            .map(CurrentUser)
            .ok_or(AppError::Unauthenticated(AuthFailure::MissingToken))
    }
}

/// The viewer once resolved for a request, so later extractors and middleware reuse it.
#[derive(Clone)]
pub struct ResolvedViewer(pub Option<Viewer>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_extracted() {
        assert_eq!(bearer_token(None), None);
        assert_eq!(bearer_token(Some("")), None);
        assert_eq!(bearer_token(Some("Bearer ")), None);
        assert_eq!(bearer_token(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(Some("abc")), Some("abc"));
    }
}
