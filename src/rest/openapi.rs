//! The OpenAPI 3.1 document of the legacy REST routes, generated from the handlers' annotations
//! and served at `GET /api/openapi.json`.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi};

use crate::error::ErrorBody;

/// The error answers every route can give (legacy bodies, `{success: false, message}`).
#[derive(IntoResponses)]
#[allow(dead_code)] // describes responses; never constructed
pub enum LegacyErrors {
    /// Validation failed (with `errors`), malformed JSON, or a duplicate registration.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No token, a bad or expired token, or wrong credentials.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The caller may not do this (role, ownership, deactivated account).
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Unknown route, record, or malformed id ("Resource not found").
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The body is over 10 MB.
    #[response(status = 413)]
    PayloadTooLarge(ErrorBody),
    /// The body is not JSON.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    /// Rate limited; see Retry-After.
    #[response(status = 429)]
    TooManyRequests(ErrorBody),
    /// An unexpected failure (never with details).
    #[response(status = 500)]
    Internal(ErrorBody),
    /// The database is unreachable.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "blog-gateway legacy REST API", description = "The /api routes of the legacy blog service, kept for old clients. New clients use /graphql."),
    paths(
        crate::http::health::health,
        super::auth::register,
        super::auth::login,
        super::auth::refresh,
        super::auth::refresh_token,
        super::auth::logout,
        super::posts::list,
        super::posts::popular,
        super::posts::detail,
        super::posts::create,
        super::posts::update,
        super::posts::delete,
        super::posts::add_comment,
        super::posts::delete_comment,
        super::posts::like,
        super::posts::unlike,
        super::users::list,
        super::users::me,
        super::users::detail,
        super::users::update,
        openapi_json,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta",
    responses((status = 200, description = "This document", content_type = "application/json", body = Object)))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
