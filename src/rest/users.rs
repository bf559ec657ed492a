//! `/api/users/*`: me, one user, update (self or admin), the admin list.

use axum::Json;
use axum::extract::{Path, RawQuery, State};

use super::body::{JsonBody, put_id, validated};
use super::contract::{RoleName, SearchText};
use super::dto::LegacyErrors;
use super::dto::{Envelope, LegacyUser, Paged, Pagination};
use super::query::{self, QueryParams};
use super::requests::UserUpdateBody;
use crate::domain::changes::EntityTag;
use crate::domain::users;
use crate::domain::validate::parse_id_or_not_found;
use crate::error::{AppError, AppResult, Resource};
use crate::http::caller::{Changed, CurrentUser, MaybeUser, ReplicaReads};
use crate::state::AppState;

#[utoipa::path(get, operation_id = "getCurrentUser", path = "/api/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "The signed-in user", body = Envelope<LegacyUser>), LegacyErrors))]
pub async fn me(
    CurrentUser(viewer): CurrentUser,
    ReplicaReads(reads): ReplicaReads,
) -> AppResult<Json<Envelope<LegacyUser>>> {
    reads.depends_on([EntityTag::User(viewer.id)]);
    let user = reads
        .run(|conn, _| Box::pin(users::find(conn, viewer.id)))
        .await?
        .ok_or(AppError::NotFound(Resource::User))?;
    Ok(Json(Envelope::data(LegacyUser::new(&user, Some(&viewer)))))
}

#[utoipa::path(get, operation_id = "getUser", path = "/api/users/{id}", tag = "users",
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, description = "A user; email and lastLogin only for the user and admins", body = Envelope<LegacyUser>), LegacyErrors))]
pub async fn detail(
    MaybeUser(viewer): MaybeUser,
    ReplicaReads(reads): ReplicaReads,
    Path(id): Path<String>,
) -> AppResult<Json<Envelope<LegacyUser>>> {
    let id = parse_id_or_not_found(&id, Resource::Any)?;
    reads.depends_on([EntityTag::User(id)]);
    let user = reads
        .run(|conn, _| Box::pin(users::find(conn, id)))
        .await?
        .ok_or(AppError::NotFound(Resource::User))?;
    Ok(Json(Envelope::data(LegacyUser::new(&user, viewer.as_ref()))))
}

#[utoipa::path(put, operation_id = "updateUser", path = "/api/users/{id}", tag = "users", security(("bearer" = [])),
    request_body(content = UserUpdateBody, description = "Optional: no body changes nothing"),
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, description = "User updated successfully (the user or an admin)", body = Envelope<LegacyUser>), LegacyErrors))]
pub async fn update(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Changed(changed): Changed,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> AppResult<Json<Envelope<LegacyUser>>> {
    let (mut changes, mut decoded) = UserUpdateBody::decode(&body);
    // A malformed id is a 400 with the body's errors, never a 403 for the nil id.
    let id = put_id(&id, "Invalid user ID", &mut decoded);
    let mut conn = state.db().await?;
    if !decoded.is_empty() {
        // Every failing field at once, and nothing written.
        validated(decoded, users::check_changes(&mut conn, id, &mut changes).await)?;
    }
    let user = users::update(&mut conn, &changed, &viewer, id, changes).await?;
    Ok(Json(Envelope::with_message(
        "User updated successfully",
        LegacyUser::new(&user, Some(&viewer)),
    )))
}

#[utoipa::path(get, operation_id = "listUsers", path = "/api/users", tag = "users", security(("bearer" = [])),
    params(
        ("page" = Option<i64>, Query, minimum = 1, maximum = 1000000, description = "Page number, from 1 (default 1)"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Users per page, 1-100 (default 10)"),
        ("role" = Option<RoleName>, Query, description = "Only users with this role"),
        ("search" = Option<SearchText>, Query, description = "Part of a username, email or name"),
    ),
    responses((status = 200, description = "Every user, newest first (admins only)", body = Paged<LegacyUser>), LegacyErrors))]
pub async fn list(
    CurrentUser(viewer): CurrentUser,
    ReplicaReads(reads): ReplicaReads,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Paged<LegacyUser>>> {
    users::require_admin(&viewer)?;
    let (filter, paging) = query::user_list(&QueryParams::parse(raw.as_deref()))?;
    let (viewer_ref, filter, paging) = (&viewer, &filter, &paging);
    let (rows, total) = reads
        .run(|conn, _| {
            Box::pin(async move {
                query::in_query(
                    users::list_offset(conn, viewer_ref, filter, paging.limit, paging.offset()).await,
                )
            })
        })
        .await?;
    reads.depends_on([EntityTag::UserList]);
    reads.depends_on(rows.iter().map(|user| EntityTag::User(user.id)));
    Ok(Json(Paged {
        success: true,
        data: rows.iter().map(|u| LegacyUser::new(u, Some(&viewer))).collect(),
        pagination: Pagination::new(paging.page, paging.limit, total),
    }))
}
