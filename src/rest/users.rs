//! `/api/users/*`: me, one user, update (self or admin), the admin list.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use serde_json::json;

use super::body::{Fields, JsonBody};
use super::dto::{LegacyUser, Pagination};
use super::query::{self, QueryParams};
use crate::auth::extract::{CurrentUser, MaybeUser};
use crate::domain::users::{self, ProfileInput, UserChanges};
use crate::domain::validate::parse_id_or_not_found;
use crate::error::{AppError, AppResult, Resource};
use crate::state::AppState;

pub async fn me(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
) -> AppResult<impl IntoResponse> {
    let user = users::find(&mut *state.db().await?, viewer.id)
        .await?
        .ok_or(AppError::NotFound(Resource::User))?;
    Ok(Json(
        json!({ "success": true, "data": LegacyUser::new(&user, Some(&viewer)) }),
    ))
}

pub async fn detail(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    let id = parse_id_or_not_found(&id, Resource::Any)?;
    let user = users::find(&mut *state.db().await?, id)
        .await?
        .ok_or(AppError::NotFound(Resource::User))?;
    Ok(Json(
        json!({ "success": true, "data": LegacyUser::new(&user, viewer.as_ref()) }),
    ))
}

/// Only `username`, `email` and `profile` are read; anything else in the body is ignored.
pub async fn update(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> AppResult<impl IntoResponse> {
    let id = parse_id_or_not_found(&id, Resource::Any)?;
    let mut fields = Fields::new(&body);
    let username = fields.string("username");
    let email = fields.string("email");
    let profile = fields.object("profile").map(|p| ProfileInput {
        first_name: fields.nested_string("profile", &p, "firstName"),
        last_name: fields.nested_string("profile", &p, "lastName"),
        avatar: fields.nested_string("profile", &p, "avatar"),
        bio: fields.nested_string("profile", &p, "bio"),
    });
    let changes = UserChanges {
        username,
        email,
        profile,
    };
    let user = users::update(&mut *state.db().await?, &viewer, id, changes, fields.errors).await?;
    Ok(Json(json!({
        "success": true,
        "message": "User updated successfully",
        "data": LegacyUser::new(&user, Some(&viewer)),
    })))
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    RawQuery(raw): RawQuery,
) -> AppResult<impl IntoResponse> {
    users::require_admin(&viewer)?;
    let (filter, paging) = query::user_list(&QueryParams::parse(raw.as_deref()))?;
    let (rows, total) = users::list_offset(
        &mut *state.db().await?,
        &viewer,
        &filter,
        paging.limit,
        paging.offset(),
    )
    .await?;
    let data: Vec<LegacyUser> = rows.iter().map(|u| LegacyUser::new(u, Some(&viewer))).collect();
    Ok(Json(json!({
        "success": true,
        "data": data,
        "pagination": Pagination::new(paging.page, paging.limit, total),
    })))
}
