//! The one error type of the gateway, and its single mapping to GraphQL codes and legacy REST bodies.

use std::time::Duration;

use async_graphql::ErrorExtensions;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

/// Which kind of record was not found; it names the legacy message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Post,
    Comment,
    User,
    /// A malformed id or an unknown path: the legacy "Resource not found".
    Any,
}

/// Why a request could not be tied to an active user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    MissingToken,
    InvalidToken,
    ExpiredToken,
    /// A valid token whose user is gone or deactivated.
    UserInactive,
    InvalidCredentials,
    RefreshTokenRequired,
    InvalidRefreshToken,
}

/// Why a known user may not do something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    InsufficientRole,
    UpdatePost,
    DeletePost,
    DeleteComment,
    UpdateUser,
    AccountDeactivated,
}

/// Where a failing input came from (the legacy `location`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    Body,
    Query,
    Params,
}

/// Every legacy error answer: `{success: false, message}`, plus `errors` when validation failed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Always false.
    pub success: bool,
    pub message: String,
    /// Every failing field (validation failures only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<LegacyFieldError>>,
}

/// One failing field, as express-validator described it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LegacyFieldError {
    /// Always "field".
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub kind: &'static str,
    /// The rejected value, of any JSON type (passwords are never echoed).
    pub value: Value,
    pub msg: String,
    /// The field's name, dotted when nested (`profile.bio`).
    pub path: String,
    pub location: Location,
}

/// One failing input field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// The input's schema name, dotted when nested (`profile.bio`).
    pub field: String,
    pub message: String,
    /// The rejected value, echoed back by the legacy error shape.
    pub value: Value,
    pub location: Location,
}

/// Every failing field of one input, collected before any write.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a failure of a body field.
    pub fn add(&mut self, field: impl Into<String>, value: impl Into<Value>, message: impl Into<String>) {
        self.add_at(Location::Body, field, value, message);
    }

    pub fn add_at(
        &mut self,
        location: Location,
        field: impl Into<String>,
        value: impl Into<Value>,
        message: impl Into<String>,
    ) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
            value: value.into(),
            location,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing failed, else the validation error.
    pub fn into_result(self) -> Result<(), AppError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self))
        }
    }

    /// A single-field validation error.
    pub fn single(location: Location, field: &str, value: impl Into<Value>, message: &str) -> AppError {
        let mut errors = Self::new();
        errors.add_at(location, field, value, message);
        AppError::Validation(errors)
    }
}

/// Deliberately not `Display`: async-graphql converts any `Display` error into a bare message,
/// and every GraphQL error must carry its `extensions.code` (see `to_graphql`).
#[derive(Debug)]
pub enum AppError {
    NotFound(Resource),
    Forbidden(Denial),
    Unauthenticated(AuthFailure),
    Validation(FieldErrors),
    /// A duplicate username or email.
    Conflict,
    RateLimited {
        retry_after: Duration,
    },
    /// The database cannot be reached.
    Unavailable,
    /// Every GraphQL execution turn stayed taken for the whole wait (GRAPHQL_MAX_CONCURRENCY).
    Busy,
    /// The answer would pass GRAPHQL_MAX_RESPONSE_BYTES (checked while it is built).
    ResponseTooLarge,
    /// A socket or client already holds as many subscriptions as it may.
    TooManySubscriptions,
    /// Anything unexpected; logged once, never shown.
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

fn not_found_message(resource: Resource) -> &'static str {
    match resource {
        Resource::Post => "Post not found",
        Resource::Comment => "Comment not found",
        Resource::User => "User not found",
        Resource::Any => "Resource not found",
    }
}

fn denial_message(denial: Denial) -> &'static str {
    match denial {
        Denial::InsufficientRole => "Access denied. Insufficient permissions.",
        Denial::UpdatePost => "Not authorized to update this post",
        Denial::DeletePost => "Not authorized to delete this post",
        Denial::DeleteComment => "Not authorized to delete this comment",
        Denial::UpdateUser => "Not authorized to update this user",
        Denial::AccountDeactivated => "Account is deactivated",
    }
}

fn auth_message(failure: AuthFailure) -> &'static str {
    match failure {
        AuthFailure::MissingToken => "Access denied. No token provided.",
        AuthFailure::InvalidToken => "Invalid token.",
        AuthFailure::ExpiredToken => "Token expired",
        AuthFailure::UserInactive => "Invalid token or user not found.",
        AuthFailure::InvalidCredentials => "Invalid credentials",
        AuthFailure::RefreshTokenRequired => "Refresh token required",
        AuthFailure::InvalidRefreshToken => "Invalid refresh token",
    }
}

impl AppError {
    /// The client-facing message (the legacy wording where the legacy service had one).
    pub fn message(&self) -> &'static str {
        match self {
            AppError::NotFound(resource) => not_found_message(*resource),
            AppError::Forbidden(denial) => denial_message(*denial),
            AppError::Unauthenticated(failure) => auth_message(*failure),
            AppError::Validation(_) => "Validation failed",
            AppError::Conflict => "User already exists with this email or username",
            AppError::RateLimited { .. } => "Too many requests from this IP",
            AppError::Unavailable => "The database is unavailable, try again shortly",
            AppError::Busy => "The server is busy, try again shortly",
            AppError::TooManySubscriptions => {
                "Too many subscriptions open: complete some before starting more"
            }
            AppError::ResponseTooLarge => {
                "The answer would be larger than this server sends: select content on fewer posts, or ask for smaller pages"
            }
            AppError::Internal(_) => "Internal server error",
        }
    }

    /// The GraphQL `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Validation(_) => "BAD_USER_INPUT",
            AppError::Conflict => "CONFLICT",
            AppError::RateLimited { .. } | AppError::TooManySubscriptions => "RATE_LIMITED",
            AppError::Unavailable | AppError::Busy => "UNAVAILABLE",
            AppError::ResponseTooLarge => "RESPONSE_TOO_LARGE",
            AppError::Internal(_) => "INTERNAL",
        }
    }

    /// The legacy REST status. A duplicate registration was 400 in the legacy service.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AppError::Validation(_) | AppError::Conflict => StatusCode::BAD_REQUEST,
            AppError::RateLimited { .. } | AppError::TooManySubscriptions => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable | AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::ResponseTooLarge => StatusCode::INSUFFICIENT_STORAGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Wraps any unexpected failure; it is logged once where it is rendered.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(error.into())
    }

    fn log(&self) {
        metrics::counter!("app_errors_total", "code" => self.code()).increment(1);
        match self {
            AppError::Internal(error) => tracing::error!(error = ?error, "internal error"),
            AppError::Unavailable => tracing::warn!("database unavailable"),
            _ => {}
        }
    }

    /// The legacy JSON body: `{success:false, message}` plus `errors` for validation.
    pub fn legacy_body(&self) -> ErrorBody {
        let errors = match self {
            AppError::Validation(errors) => Some(
                errors
                    .0
                    .iter()
                    .map(|e| LegacyFieldError {
                        kind: "field",
                        value: e.value.clone(),
                        msg: e.message.clone(),
                        path: e.field.clone(),
                        location: e.location,
                    })
                    .collect(),
            ),
            _ => None,
        };
        ErrorBody {
            success: false,
            message: self.message().to_owned(),
            errors,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            AppError::RateLimited { retry_after } => Some(*retry_after),
            AppError::Busy => Some(Duration::from_secs(1)),
            _ => None,
        }
    }

    /// Adds `Retry-After` (whole seconds, at least 1) when the client should come back later.
    pub fn set_retry_after(&self, headers: &mut axum::http::HeaderMap) {
        if let Some(retry_after) = self.retry_after()
            && let Ok(value) = HeaderValue::from_str(&retry_after.as_secs().max(1).to_string())
        {
            headers.insert(header::RETRY_AFTER, value);
        }
    }

    /// The error as a GraphQL error with `extensions.code` (and `fields` for validation).
    pub fn to_graphql(&self) -> async_graphql::Error {
        self.log();
        let mut error = async_graphql::Error::new(self.message());
        let code = self.code();
        let fields = match self {
            AppError::Validation(errors) => Some(errors.clone()),
            _ => None,
        };
        let retry_after = self.retry_after();
        error = error.extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(fields) = &fields {
                let list: Vec<async_graphql::Value> = fields
                    .0
                    .iter()
                    .map(|f| {
                        let mut map = async_graphql::indexmap::IndexMap::new();
                        map.insert(
                            async_graphql::Name::new("field"),
                            async_graphql::Value::from(f.field.clone()),
                        );
                        map.insert(
                            async_graphql::Name::new("message"),
                            async_graphql::Value::from(f.message.clone()),
                        );
                        async_graphql::Value::Object(map)
                    })
                    .collect();
                ext.set("fields", async_graphql::Value::List(list));
            }
            if let Some(retry_after) = retry_after {
                ext.set("retryAfter", retry_after.as_secs().max(1));
            }
        });
        error
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(error: AppError) -> Self {
        error.to_graphql()
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let mut response = (self.status(), axum::Json(self.legacy_body())).into_response();
        self.set_retry_after(response.headers_mut());
        response
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => AppError::NotFound(Resource::Any),
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ) => AppError::Unavailable,
            Error::DatabaseError(_, info) if is_connection_loss(info.message()) => AppError::Unavailable,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
                if matches!(
                    info.constraint_name(),
                    Some("users_username_key" | "users_username_key_idx" | "users_email_key")
                ) =>
            {
                AppError::Conflict
            }
            other => AppError::Internal(other.into()),
        }
    }
}

/// Whether a database error means the server went away (shut down, restarted, unreachable)
/// rather than that the statement failed. Postgres reports these as ordinary errors.
fn is_connection_loss(message: &str) -> bool {
    const SIGNS: &[&str] = &[
        "terminating connection",
        "connection closed",
        "server closed the connection",
        "the database system is shutting down",
        "the database system is starting up",
        "connection refused",
        "broken pipe",
        "connection reset",
    ];
    let message = message.to_ascii_lowercase();
    SIGNS.iter().any(|sign| message.contains(sign))
}

impl From<crate::db::PoolError> for AppError {
    fn from(error: crate::db::PoolError) -> Self {
        tracing::warn!(error = %error, "could not get a database connection");
        AppError::Unavailable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_a_code_and_status() {
        let cases = [
            (
                AppError::NotFound(Resource::Post),
                "NOT_FOUND",
                404,
                "Post not found",
            ),
            (
                AppError::Forbidden(Denial::UpdatePost),
                "FORBIDDEN",
                403,
                "Not authorized to update this post",
            ),
            (
                AppError::Unauthenticated(AuthFailure::ExpiredToken),
                "UNAUTHENTICATED",
                401,
                "Token expired",
            ),
            (
                AppError::Conflict,
                "CONFLICT",
                400,
                "User already exists with this email or username",
            ),
            (
                AppError::Unavailable,
                "UNAVAILABLE",
                503,
                "The database is unavailable, try again shortly",
            ),
        ];
        for (error, code, status, message) in cases {
            assert_eq!(error.code(), code);
            assert_eq!(error.status().as_u16(), status);
            assert_eq!(error.legacy_body().message, message);
        }
    }

    #[test]
    fn internal_errors_never_show_their_cause() {
        let error = AppError::internal(anyhow::anyhow!("relation \"secret\" does not exist"));
        assert_eq!(error.legacy_body().message, "Internal server error");
        assert_eq!(error.to_graphql().message, "Internal server error");
    }
}
