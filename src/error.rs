//! The one error type of the gateway, and its single mapping to GraphQL codes and legacy REST bodies.

use std::borrow::Cow;
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
    UpdateComment,
    UpdateUser,
    AccountDeactivated,
}

/// A body the legacy REST door cannot read (the legacy messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyRejection {
    TooLarge,
    Unreadable,
    NotJson,
    Malformed,
    NotAnObject,
}

/// A GraphQL request refused before its document is read, with what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestRejection {
    TooLarge {
        limit: usize,
    },
    Unreadable,
    NotJson,
    /// The body is not JSON (the parser's words follow).
    Malformed(String),
    /// The body is JSON but not a GraphQL request (the parser's words follow).
    NotARequest(String),
    NoDocument,
    NoDocumentInUrl,
    /// A URL parameter that cannot be read (what is wrong with it).
    BadUrl(String),
    BatchTooLarge {
        max: usize,
        got: usize,
    },
    EmptyBatch,
    MutationOverGet,
}

/// A document named by hash that cannot run (the persisted-query protocols).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentRefusal {
    /// The hash is unknown: the client should send the document with it (Apollo's protocol).
    NotFound,
    /// The document does not hash to the hash sent with it.
    HashMismatch,
    /// Trusted-documents mode and the document is not registered.
    NotTrusted,
    /// `extensions.persistedQuery` is not `{version: 1, sha256Hash}`.
    Unsupported,
    /// No registered document has the id the request names (`documentId`, `doc_id`).
    UnknownId,
    /// The request names a registered document by id and also sends a document or a hash.
    DocumentAndId,
}

/// Which static limit of a GraphQL document was passed (`extensions.limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Depth,
    Cost,
    Introspection,
    Aliases,
    Fields,
    /// Representations of one `_entities` call (Apollo Federation).
    Representations,
}

impl Limit {
    fn name(self) -> &'static str {
        match self {
            Limit::Depth => "depth",
            Limit::Cost => "cost",
            Limit::Introspection => "introspection",
            Limit::Aliases => "aliases",
            Limit::Fields => "fields",
            Limit::Representations => "representations",
        }
    }
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
    /// Where the REST door read the field (`None` from the service layer, which knows fields,
    /// not transports: the door places them, [`AppError::placed_in`]; unplaced ones read as body).
    pub location: Option<Location>,
}

/// Every failing field of one input, collected before any write.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a failure of an input field (the service layer's words: no transport).
    pub fn add(&mut self, field: impl Into<String>, value: impl Into<Value>, message: impl Into<String>) {
        self.push(None, field.into(), value.into(), message.into());
    }

    /// Records a failure of a field the REST door read from `location` itself.
    pub fn add_at(
        &mut self,
        location: Location,
        field: impl Into<String>,
        value: impl Into<Value>,
        message: impl Into<String>,
    ) {
        self.push(Some(location), field.into(), value.into(), message.into());
    }

    fn push(&mut self, location: Option<Location>, field: String, value: Value, message: String) {
        self.0.push(FieldError {
            field,
            message,
            value,
            location,
        });
    }

    /// The door's own decoding failures first, then the service layer's for the other fields
    /// (a field that failed to decode is not reported again as missing).
    pub fn merged(mut self, later: FieldErrors) -> FieldErrors {
        let fresh: Vec<FieldError> = later.0.into_iter().filter(|e| !self.has(&e.field)).collect();
        self.0.extend(fresh);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `field` already failed (so a later rule does not report it twice).
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    /// `Ok(())` when nothing failed, else the validation error.
    pub fn into_result(self) -> Result<(), AppError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self))
        }
    }

    /// The GraphQL message of a validation error: the first problem, so a client that shows
    /// only `message` shows what to fix (the legacy REST body keeps "Validation failed").
    fn summary(&self) -> String {
        let Some(first) = self.0.first() else {
            return "Validation failed".to_owned();
        };
        match self.0.len() - 1 {
            0 => format!("Validation failed: {}", first.message),
            1 => format!(
                "Validation failed: {} (1 more problem in extensions.fields)",
                first.message
            ),
            more => format!(
                "Validation failed: {} ({more} more problems in extensions.fields)",
                first.message
            ),
        }
    }

    /// A single-field validation error.
    pub fn single(field: &str, value: impl Into<Value>, message: &str) -> AppError {
        let mut errors = Self::new();
        errors.add(field, value, message);
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
    /// A GraphQL operation whose cost its caller's budget cannot pay this window.
    CostRateLimited {
        retry_after: Duration,
        points: u32,
        budget: u32,
    },
    /// A GraphQL document past a static limit (depth, cost, aliases, fields, introspection).
    LimitExceeded {
        limit: Limit,
        value: u64,
        max: u32,
    },
    /// A REST body that cannot be read.
    Body(BodyRejection),
    /// A GraphQL request that cannot be read.
    Request(RequestRejection),
    /// A persisted document that cannot run.
    Document(DocumentRefusal),
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
        Denial::UpdateComment => "Not authorized to update this comment",
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

fn body_message(rejection: BodyRejection) -> &'static str {
    match rejection {
        BodyRejection::TooLarge => "Request body too large",
        BodyRejection::Unreadable => "Could not read the request body",
        BodyRejection::NotJson => "Content-Type must be application/json",
        BodyRejection::Malformed => "Malformed JSON body",
        BodyRejection::NotAnObject => "The JSON body must be an object",
    }
}

fn request_message(rejection: &RequestRejection) -> Cow<'static, str> {
    match rejection {
        RequestRejection::TooLarge { limit } => {
            format!("Request body is larger than the limit of {limit} bytes").into()
        }
        RequestRejection::Unreadable => "Could not read the request body".into(),
        RequestRejection::NotJson => "Send the request as Content-Type: application/json".into(),
        RequestRejection::Malformed(why) => format!("Malformed JSON body: {why}").into(),
        RequestRejection::NotARequest(why) => {
            format!("The body must be a GraphQL request {{\"query\": \"...\"}} or a list of them: {why}")
                .into()
        }
        RequestRejection::NoDocument => {
            "Pass the GraphQL document as a non-empty string in `query` (or a registered document's `documentId`)".into()
        }
        RequestRejection::NoDocumentInUrl => {
            "Pass the document in the `query` URL parameter (or a registered document's `documentId`)".into()
        }
        RequestRejection::BadUrl(why) => why.clone().into(),
        RequestRejection::BatchTooLarge { max, got } => {
            format!("A batch may hold at most {max} operations; this one has {got}").into()
        }
        RequestRejection::EmptyBatch => "A batch must hold at least one operation".into(),
        RequestRejection::MutationOverGet => "Mutations must be sent with POST".into(),
    }
}

fn document_message(refusal: DocumentRefusal) -> &'static str {
    match refusal {
        DocumentRefusal::NotFound => "PersistedQueryNotFound",
        DocumentRefusal::HashMismatch => "provided sha does not match query",
        DocumentRefusal::NotTrusted => "Only registered (trusted) documents may run on this server",
        DocumentRefusal::Unsupported => {
            "Unsupported persistedQuery extension: send {\"version\": 1, \"sha256Hash\": \"...\"}"
        }
        DocumentRefusal::UnknownId => {
            "No registered document has this id: register the build's manifest with `blog-gateway documents add`"
        }
        DocumentRefusal::DocumentAndId => {
            "Send either a document (with its persistedQuery hash, if any) or the id of a registered one, not both"
        }
    }
}

fn limit_message(limit: Limit, value: u64, max: u32) -> String {
    match limit {
        Limit::Depth => {
            format!("Query is nested {value} levels deep; the limit is {max}. Split it into smaller queries.")
        }
        Limit::Cost => format!(
            "Query cost {value} exceeds the limit of {max}. Ask for fewer items (first/limit) or fewer nested lists."
        ),
        Limit::Introspection => "Introspection is disabled on this server".to_owned(),
        Limit::Aliases => format!("Query has {value} aliases or root fields; the limit is {max}."),
        Limit::Fields => format!(
            "Query selects {value} fields once its fragments are expanded; the limit is {max}. \
             Select fewer fields, or spread fragments fewer times."
        ),
        Limit::Representations => {
            format!("_entities was given {value} representations; the limit is {max}. Split the batch.")
        }
    }
}

/// Whole seconds to wait, rounded up and at least 1 (a client told to wait 0 s would retry at
/// once): the one rounding of `Retry-After`, `retryAfter` and the rate-limit headers.
pub fn whole_seconds(duration: Duration) -> u64 {
    duration.as_micros().div_ceil(1_000_000).max(1) as u64
}

/// The code of a document that did not parse or validate, or passed a limit.
const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
/// The code of input the client must fix.
const BAD_USER_INPUT: &str = "BAD_USER_INPUT";

/// Gives a code to the errors async-graphql raised while executing that have none: every error
/// of ours carries one, so these are an argument value that failed to parse or its validator
/// (`excerpt(length: -1)`), which is the client's input to fix.
pub fn label_argument_errors(errors: &mut [async_graphql::ServerError]) {
    for error in errors.iter_mut().filter(|e| !e.path.is_empty()) {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", BAD_USER_INPUT);
        }
    }
}

/// Gives async-graphql's parse and validation errors a code, so clients can tell them apart
/// from field errors.
pub fn label_refusals(errors: &mut [async_graphql::ServerError]) {
    for error in errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", VALIDATION_FAILED);
        }
    }
}

impl AppError {
    /// The client-facing message (the legacy wording where the legacy service had one).
    pub fn message(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            AppError::CostRateLimited {
                retry_after,
                points,
                budget,
            } => {
                return format!(
                    "Rate limit exceeded: this query costs {points} of {budget} points per window; retry in {} s",
                    whole_seconds(*retry_after)
                )
                .into();
            }
            AppError::LimitExceeded { limit, value, max } => {
                return limit_message(*limit, *value, *max).into();
            }
            AppError::Request(rejection) => return request_message(rejection),
            AppError::Body(rejection) => body_message(*rejection),
            AppError::Document(refusal) => document_message(*refusal),
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
        })
    }

    /// The GraphQL `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Validation(_) => BAD_USER_INPUT,
            AppError::Conflict => "CONFLICT",
            AppError::RateLimited { .. }
            | AppError::TooManySubscriptions
            | AppError::CostRateLimited { .. } => "RATE_LIMITED",
            AppError::Unavailable | AppError::Busy => "UNAVAILABLE",
            AppError::ResponseTooLarge => "RESPONSE_TOO_LARGE",
            AppError::LimitExceeded { .. } => VALIDATION_FAILED,
            AppError::Body(_)
            | AppError::Request(_)
            | AppError::Document(
                DocumentRefusal::HashMismatch | DocumentRefusal::Unsupported | DocumentRefusal::DocumentAndId,
            ) => "BAD_REQUEST",
            AppError::Document(DocumentRefusal::NotFound | DocumentRefusal::UnknownId) => {
                "PERSISTED_QUERY_NOT_FOUND"
            }
            AppError::Document(DocumentRefusal::NotTrusted) => "PERSISTED_QUERY_NOT_ALLOWED",
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
            AppError::RateLimited { .. }
            | AppError::TooManySubscriptions
            | AppError::CostRateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable | AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::ResponseTooLarge => StatusCode::INSUFFICIENT_STORAGE,
            AppError::Body(BodyRejection::TooLarge)
            | AppError::Request(RequestRejection::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Body(BodyRejection::NotJson) | AppError::Request(RequestRejection::NotJson) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            AppError::Request(RequestRejection::MutationOverGet) => StatusCode::METHOD_NOT_ALLOWED,
            // A document refused before it ran: GraphQL over HTTP answers these 400 (or 200 to
            // a client that accepts only application/json, which the transport decides).
            AppError::Body(_)
            | AppError::Request(_)
            | AppError::Document(_)
            | AppError::LimitExceeded { .. } => StatusCode::BAD_REQUEST,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The error with the fields the service layer reported placed in `location` (the REST door
    /// knows where it read them: a list's filters are query parameters).
    pub fn placed_in(self, location: Location) -> Self {
        match self {
            AppError::Validation(mut errors) => {
                for error in &mut errors.0 {
                    error.location.get_or_insert(location);
                }
                AppError::Validation(errors)
            }
            other => other,
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
                        location: e.location.unwrap_or(Location::Body),
                    })
                    .collect(),
            ),
            _ => None,
        };
        ErrorBody {
            success: false,
            message: self.message().into_owned(),
            errors,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            AppError::RateLimited { retry_after } | AppError::CostRateLimited { retry_after, .. } => {
                Some(*retry_after)
            }
            AppError::Busy => Some(Duration::from_secs(1)),
            _ => None,
        }
    }

    /// Adds the headers the answer needs: `Retry-After` (whole seconds, rounded up) when the
    /// client should come back later, `Allow` when the method was wrong.
    pub fn set_headers(&self, headers: &mut axum::http::HeaderMap) {
        if let Some(retry_after) = self.retry_after()
            && let Ok(value) = HeaderValue::from_str(&whole_seconds(retry_after).to_string())
        {
            headers.insert(header::RETRY_AFTER, value);
        }
        if matches!(self, AppError::Request(RequestRejection::MutationOverGet)) {
            headers.insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
    }

    /// The error as a GraphQL error with `extensions.code` (and `fields` for validation).
    pub fn to_graphql(&self) -> async_graphql::Error {
        self.log();
        let mut error = async_graphql::Error::new(match self {
            AppError::Validation(errors) => Cow::Owned(errors.summary()),
            _ => self.message(),
        });
        let code = self.code();
        let limit = match self {
            AppError::LimitExceeded { limit, value, max } => Some((limit.name(), *value, *max)),
            _ => None,
        };
        let fields = match self {
            AppError::Validation(errors) => Some(errors.clone()),
            _ => None,
        };
        let retry_after = self.retry_after();
        // An unexpected error's trace, for support to find (when traces are exported).
        let trace_id = match self {
            AppError::Internal(_) => crate::telemetry::current_trace_id(),
            _ => None,
        };
        error = error.extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(trace_id) = &trace_id {
                ext.set("traceId", trace_id.as_str());
            }
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
                ext.set("retryAfter", whole_seconds(retry_after));
            }
            if let Some((limit, value, max)) = limit {
                ext.set("limit", limit);
                ext.set("value", value);
                ext.set("max", max);
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
        self.set_headers(response.headers_mut());
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

    /// One error of each variant (the match below stops compiling when a variant is added).
    fn one_of_each() -> Vec<AppError> {
        let second = Duration::from_secs(1);
        let all = vec![
            AppError::NotFound(Resource::Post),
            AppError::Forbidden(Denial::UpdatePost),
            AppError::Unauthenticated(AuthFailure::MissingToken),
            FieldErrors::single("title", "x", "Title is required"),
            AppError::Conflict,
            AppError::RateLimited { retry_after: second },
            AppError::Unavailable,
            AppError::Busy,
            AppError::ResponseTooLarge,
            AppError::TooManySubscriptions,
            AppError::CostRateLimited {
                retry_after: second,
                points: 2,
                budget: 1,
            },
            AppError::LimitExceeded {
                limit: Limit::Depth,
                value: 20,
                max: 10,
            },
            AppError::Body(BodyRejection::NotJson),
            AppError::Request(RequestRejection::NoDocument),
            AppError::Document(DocumentRefusal::NotFound),
            AppError::Document(DocumentRefusal::HashMismatch),
            AppError::Document(DocumentRefusal::NotTrusted),
            AppError::Document(DocumentRefusal::Unsupported),
            AppError::Document(DocumentRefusal::UnknownId),
            AppError::Document(DocumentRefusal::DocumentAndId),
            AppError::internal(anyhow::anyhow!("a bug")),
        ];
        for error in &all {
            match error {
                AppError::NotFound(_)
                | AppError::Forbidden(_)
                | AppError::Unauthenticated(_)
                | AppError::Validation(_)
                | AppError::Conflict
                | AppError::RateLimited { .. }
                | AppError::Unavailable
                | AppError::Busy
                | AppError::ResponseTooLarge
                | AppError::TooManySubscriptions
                | AppError::CostRateLimited { .. }
                | AppError::LimitExceeded { .. }
                | AppError::Body(_)
                | AppError::Request(_)
                | AppError::Document(
                    DocumentRefusal::NotFound
                    | DocumentRefusal::HashMismatch
                    | DocumentRefusal::NotTrusted
                    | DocumentRefusal::Unsupported
                    | DocumentRefusal::UnknownId
                    | DocumentRefusal::DocumentAndId,
                )
                | AppError::Internal(_) => {}
            }
        }
        all
    }

    #[test]
    fn the_readme_lists_every_code_a_client_can_receive() {
        let readme = include_str!("../README.md");
        // The rows of the table headed `| code | when |`.
        let listed: Vec<&str> = readme
            .lines()
            .map(str::trim)
            .skip_while(|line| *line != "| code | when |")
            .skip(2)
            .take_while(|line| line.starts_with('|'))
            .filter_map(|line| line.strip_prefix("| `")?.split('`').next())
            .collect();
        assert!(!listed.is_empty(), "the README has no table of codes");
        let codes = one_of_each()
            .iter()
            .map(AppError::code)
            .chain([VALIDATION_FAILED, BAD_USER_INPUT])
            .collect::<std::collections::BTreeSet<_>>();
        for code in &codes {
            assert!(listed.contains(code), "the README's table of codes lacks {code}");
        }
        for code in &listed {
            assert!(
                codes.contains(code),
                "the README lists {code}, which no error carries"
            );
        }
    }

    #[test]
    fn a_graphql_validation_message_names_the_first_problem() {
        let mut errors = FieldErrors::new();
        errors.add("title", "x", "Title must be between 5 and 200 characters");
        let one = AppError::Validation(errors.clone());
        assert_eq!(
            one.to_graphql().message,
            "Validation failed: Title must be between 5 and 200 characters"
        );
        assert_eq!(
            one.legacy_body().message,
            "Validation failed",
            "REST keeps the legacy body"
        );
        errors.add("content", "", "Content is required");
        errors.add("category", "", "Category is required");
        assert_eq!(
            AppError::Validation(errors).to_graphql().message,
            "Validation failed: Title must be between 5 and 200 characters (2 more problems in extensions.fields)"
        );
    }

    #[test]
    fn internal_errors_never_show_their_cause() {
        let error = AppError::internal(anyhow::anyhow!("relation \"secret\" does not exist"));
        assert_eq!(error.legacy_body().message, "Internal server error");
        assert_eq!(error.to_graphql().message, "Internal server error");
    }
}
