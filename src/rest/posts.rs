//! `/api/posts/*`: list, popular, detail (counts a view), create, update, delete, comments, likes.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;
use uuid::Uuid;

use super::body::{Fields, JsonBody};
use super::dto::{LegacyComment, Pagination, PostDetail, PostItem, post_items};
use super::query::{self, QueryParams};
use crate::auth::extract::{CurrentUser, MaybeUser};
use crate::db::DbConn;
use crate::db::models::{Category, Post, User};
use crate::domain::posts::PostInput;
use crate::domain::validate::parse_id_or_not_found;
use crate::domain::{comments, likes, posts, users};
use crate::error::{AppResult, FieldErrors, Location, Resource};
use crate::state::AppState;

/// Loads the users with the given ids, once each.
async fn users_by_id(
    conn: &mut DbConn,
    ids: impl IntoIterator<Item = Uuid>,
) -> AppResult<HashMap<Uuid, User>> {
    let mut ids: Vec<Uuid> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(users::by_ids(conn, &ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect())
}

async fn render_detail(conn: &mut DbConn, post: Post) -> AppResult<PostDetail> {
    let comments = comments::all_for_post(conn, post.id).await?;
    let authors = users_by_id(
        conn,
        std::iter::once(post.author_id).chain(comments.iter().map(|c| c.author_id)),
    )
    .await?;
    Ok(PostDetail::new(post, comments, &authors))
}

async fn render_item(conn: &mut DbConn, post: Post) -> AppResult<PostItem<super::dto::AuthorDetail>> {
    let author = users::find(conn, post.author_id).await?;
    Ok(PostItem::new(post, author.as_ref().map(Into::into)))
}

/// Decodes a post body into the service-layer input, keeping legacy type errors.
fn post_input(body: &serde_json::Map<String, serde_json::Value>) -> (PostInput, FieldErrors) {
    let mut fields = Fields::new(body);
    let title = fields.string("title");
    let content = fields.string("content");
    let category = fields.string("category").and_then(|raw| {
        let parsed = Category::parse(raw.trim());
        if parsed.is_none() {
            fields.errors.add("category", raw, "Invalid category");
        }
        parsed
    });
    let tags = fields.string_array("tags", "Tags must be an array");
    let is_published = fields.boolean("isPublished", "isPublished must be a boolean");
    (
        PostInput {
            title,
            content,
            category,
            tags,
            is_published,
        },
        fields.errors,
    )
}

pub async fn list(
    State(state): State<AppState>,
    _viewer: MaybeUser,
    RawQuery(raw): RawQuery,
) -> AppResult<impl IntoResponse> {
    let (filter, sort, paging) = query::post_list(&QueryParams::parse(raw.as_deref()))?;
    let mut conn = state.db().await?;
    let rows = posts::list_offset(&mut conn, &filter, sort, paging.limit, paging.offset()).await?;
    let total = posts::count(&mut conn, &filter).await?;
    let authors = users_by_id(&mut conn, rows.iter().map(|p| p.author_id)).await?;
    Ok(Json(json!({
        "success": true,
        "data": post_items(rows, &authors),
        "pagination": Pagination::new(paging.page, paging.limit, total),
    })))
}

pub async fn popular(
    State(state): State<AppState>,
    _viewer: MaybeUser,
    RawQuery(raw): RawQuery,
) -> AppResult<impl IntoResponse> {
    let limit = query::popular_limit(&QueryParams::parse(raw.as_deref()))?;
    let mut conn = state.db().await?;
    let rows = posts::popular(&mut conn, limit).await?;
    let authors = users_by_id(&mut conn, rows.iter().map(|p| p.author_id)).await?;
    Ok(Json(
        json!({ "success": true, "data": post_items(rows, &authors) }),
    ))
}

/// Counts a view, then answers the post with its author and every comment.
pub async fn detail(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    let id = parse_id_or_not_found(&id, Resource::Any)?;
    let mut conn = state.db().await?;
    let post = posts::record_view(&mut conn, viewer.as_ref(), id).await?;
    Ok(Json(
        json!({ "success": true, "data": render_detail(&mut conn, post).await? }),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    JsonBody(body): JsonBody,
) -> AppResult<impl IntoResponse> {
    let (input, errors) = post_input(&body);
    let input = input.validate(true, errors)?;
    let mut conn = state.db().await?;
    let post = posts::create(&mut conn, &viewer, input).await?;
    let data = render_item(&mut conn, post).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "success": true, "message": "Post created successfully", "data": data })),
    ))
}

pub async fn update(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> AppResult<impl IntoResponse> {
    let parsed_id = Uuid::parse_str(id.trim());
    let (input, mut errors) = post_input(&body);
    if parsed_id.is_err() {
        errors.add_at(Location::Params, "id", id.as_str(), "Invalid post ID");
    }
    let input = input.validate(false, errors)?;
    let id = parsed_id.unwrap_or_default();
    let mut conn = state.db().await?;
    let updated = posts::update(&mut conn, &viewer, id, input).await?;
    let data = render_item(&mut conn, updated.post).await?;
    Ok(Json(
        json!({ "success": true, "message": "Post updated successfully", "data": data }),
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    let id = parse_id_or_not_found(&id, Resource::Any)?;
    posts::delete(&mut *state.db().await?, &viewer, id).await?;
    Ok(Json(
        json!({ "success": true, "message": "Post deleted successfully" }),
    ))
}

pub async fn add_comment(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> AppResult<impl IntoResponse> {
    let post_id = parse_id_or_not_found(&id, Resource::Any)?;
    let mut fields = Fields::new(&body);
    let content = fields.string("content");
    fields.errors.into_result()?;
    let mut conn = state.db().await?;
    let comment = comments::add(&mut conn, &viewer, post_id, content.as_deref().unwrap_or("")).await?;
    let author = users::find(&mut conn, comment.author_id).await?;
    let data = LegacyComment::new(comment, author.as_ref());
    Ok((
        StatusCode::CREATED,
        Json(json!({ "success": true, "message": "Comment added successfully", "data": data })),
    ))
}

pub async fn delete_comment(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Path((post_id, comment_id)): Path<(String, String)>,
) -> AppResult<impl IntoResponse> {
    let post_id = parse_id_or_not_found(&post_id, Resource::Any)?;
    let comment_id = parse_id_or_not_found(&comment_id, Resource::Any)?;
    comments::delete(&mut *state.db().await?, &viewer, Some(post_id), comment_id).await?;
    Ok(Json(
        json!({ "success": true, "message": "Comment deleted successfully" }),
    ))
}

async fn set_liked(
    state: &AppState,
    viewer: &crate::auth::Viewer,
    id: &str,
    liked: bool,
) -> AppResult<impl IntoResponse + use<>> {
    let id = parse_id_or_not_found(id, Resource::Any)?;
    let post = likes::set_liked(&mut *state.db().await?, viewer, id, liked).await?;
    Ok(Json(
        json!({ "success": true, "data": { "likes": post.likes_count, "liked": liked } }),
    ))
}

pub async fn like(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    set_liked(&state, &viewer, &id, true).await
}

pub async fn unlike(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    set_liked(&state, &viewer, &id, false).await
}
