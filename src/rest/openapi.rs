//! The OpenAPI 3.1 document of the legacy REST routes, generated from the handlers' annotations
//! and served at `GET /api/openapi.json`.

use axum::Json;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Required};
use utoipa::{Modify, OpenApi};

use super::contract::{CategoryName, RoleName, SearchText, SortName, TagFilter};
use crate::error::ErrorBody;

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

/// Every operation of the document.
fn operations(openapi: &mut utoipa::openapi::OpenApi) -> impl Iterator<Item = &mut Operation> {
    openapi.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
    })
}

/// Operations that accept a request without a body: the server reads a missing body as `{}`,
/// which these take (logout revokes every token, an update with nothing to change changes
/// nothing). Every other body is required: without one the answer is 400 or 401.
pub const OPTIONAL_BODIES: &[&str] = &["logout", "updatePost", "updateUser"];

/// Marks the request bodies of [`OPTIONAL_BODIES`] as not required (`#[utoipa::path]` makes a
/// body optional only by making it nullable, and a JSON `null` body is refused).
struct OptionalBodies;

impl Modify for OptionalBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for operation in operations(openapi) {
            let optional = operation
                .operation_id
                .as_deref()
                .is_some_and(|id| OPTIONAL_BODIES.contains(&id));
            if let (true, Some(RefOr::T(body))) = (optional, operation.request_body.as_mut()) {
                body.required = Some(Required::False);
            }
        }
    }
}

/// Declares `allowEmptyValue` on every query parameter: the server reads `?page=` as if `page`
/// were absent (as express did), so an empty value is accepted everywhere. utoipa has no field
/// for this keyword (deprecated in OpenAPI 3.1, still defined), and writes extensions into the
/// parameter object as they are.
struct EmptyQueryValues;

impl Modify for EmptyQueryValues {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for operation in operations(openapi) {
            for parameter in operation.parameters.iter_mut().flatten() {
                if let RefOr::T(parameter) = parameter
                    && parameter.parameter_in == ParameterIn::Query
                {
                    parameter
                        .extensions
                        .get_or_insert_with(Default::default)
                        .insert("allowEmptyValue".to_owned(), true.into());
                }
            }
        }
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
        super::posts::detail_by_slug,
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
    components(schemas(ErrorBody, CategoryName, RoleName, SortName, SearchText, TagFilter)),
    modifiers(&BearerAuth, &OptionalBodies, &EmptyQueryValues),
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`.
#[utoipa::path(get, operation_id = "getOpenApiDocument", path = "/api/openapi.json", tag = "meta",
    responses((status = 200, description = "This document", content_type = "application/json", body = Object)))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
