//! `/api/posts/*`: list, popular, detail (counts a view), create, update, delete, comments, likes.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use uuid::Uuid;

use super::body::{JsonBody, put_id, validated};
use super::contract::{CategoryName, SearchText, SortName, TagFilter};
use super::dto::LegacyErrors;
use super::dto::{
    AuthorDetail, AuthorSummary, Envelope, LegacyComment, LikeState, Message, Paged, Pagination, PostDetail,
    PostItem, popular_items, post_items,
};
use super::query::{self, QueryParams};
use super::requests::{CommentBody, CreatePostBody, UpdatePostBody, decode_post};
use crate::db::DbConn;
use crate::db::models::{Post, User};
use crate::db::replicas::Reads;
use crate::domain::changes::{EntityTag, TagSet};
use crate::domain::posts::PostRef;
use crate::domain::validate::parse_id_or_not_found;
use crate::domain::viewer::Viewer;
use crate::domain::{comments, likes, posts, users};
use crate::error::{AppResult, Resource};
use crate::http::caller::{Changed, CurrentUser, MaybeUser, ReplicaReads};
use crate::state::AppState;
use diesel_async::AsyncPgConnection;

/// Records that the answer shows `rows` and their authors (for the response cache).
fn depends_on_rows(reads: &Reads, rows: &[Post]) {
    reads.depends_on(
        rows.iter()
            .flat_map(|post| [EntityTag::Post(post.id), EntityTag::User(post.author_id)]),
    );
}

/// Loads the users with the given ids, once each.
async fn users_by_id(
    conn: &mut AsyncPgConnection,
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

async fn render_item(conn: &mut DbConn, post: Post) -> AppResult<PostItem<AuthorDetail>> {
    let author = users::find(conn, post.author_id).await?;
    Ok(PostItem::new(post, author.as_ref().map(Into::into)))
}

#[utoipa::path(get, operation_id = "listPosts", path = "/api/posts", tag = "posts",
    params(
        ("page" = Option<i64>, Query, minimum = 1, maximum = 1000000, description = "Page number, from 1 (default 1)"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Posts per page, 1-100 (default 10)"),
        ("sort" = Option<SortName>, Query, description = "-createdAt (default), createdAt, -updatedAt, updatedAt, title, -title"),
        ("category" = Option<CategoryName>, Query, description = "Only posts of this category"),
        ("author" = Option<Uuid>, Query, description = "Only posts by this author (a user id)"),
        ("search" = Option<SearchText>, Query, description = "Full-text search over title and content (words, not substrings)"),
        ("tag" = Option<TagFilter>, Query, description = "Only posts with this tag"),
    ),
    responses((status = 200, description = "Published posts, newest first", body = Paged<PostItem<AuthorSummary>>), LegacyErrors))]
pub async fn list(
    State(state): State<AppState>,
    ReplicaReads(reads): ReplicaReads,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Paged<PostItem<AuthorSummary>>>> {
    let (filter, sort, paging) = query::post_list(&QueryParams::parse(raw.as_deref()))?;
    let (filter, paging, marks) = (&filter, &paging, state.page_marks());
    let (rows, total, authors) = reads
        .run(|conn, _| {
            Box::pin(async move {
                let rows = query::in_query(
                    posts::list_offset(conn, marks, filter, sort, paging.limit, paging.offset()).await,
                )?;
                let total = query::in_query(posts::count(conn, filter).await)?;
                let authors = users_by_id(conn, rows.iter().map(|p| p.author_id)).await?;
                Ok((rows, total, authors))
            })
        })
        .await?;
    reads.depends_on(sort.tags().iter().copied());
    depends_on_rows(&reads, &rows);
    Ok(Json(Paged {
        success: true,
        data: post_items(rows, &authors),
        pagination: Pagination::new(paging.page, paging.limit, total),
    }))
}

#[utoipa::path(get, operation_id = "listPopularPosts", path = "/api/posts/popular", tag = "posts",
    params(("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "1-100 (default 10)")),
    responses((status = 200, description = "Published posts by views + 2 x likes + 3 x comments", body = Envelope<Vec<PostItem<AuthorSummary>>>), LegacyErrors))]
pub async fn popular(
    ReplicaReads(reads): ReplicaReads,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Envelope<Vec<PostItem<AuthorSummary>>>>> {
    let limit = query::popular_limit(&QueryParams::parse(raw.as_deref()))?;
    let (rows, authors) = reads
        .run(|conn, _| {
            Box::pin(async move {
                let rows = posts::popular(conn, limit).await?;
                let authors = users_by_id(conn, rows.iter().map(|p| p.author_id)).await?;
                Ok((rows, authors))
            })
        })
        .await?;
    reads.depends_on([EntityTag::PostList, EntityTag::PostPopular]);
    depends_on_rows(&reads, &rows);
    Ok(Json(Envelope::data(popular_items(rows, &authors))))
}

#[utoipa::path(get, operation_id = "getPost", path = "/api/posts/{id}", tag = "posts",
    params(("id" = Uuid, Path, description = "Post id")),
    responses((status = 200, description = "The post with its author and every comment; counts a view", body = Envelope<PostDetail>), LegacyErrors))]
pub async fn detail(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    Path(id): Path<String>,
) -> AppResult<Json<Envelope<PostDetail>>> {
    let id = parse_id_or_not_found(&id, Resource::Any)?;
    detail_of(&state, viewer.as_ref(), PostRef::Id(id)).await
}

/// The detail of a post named by id or slug; counts a view.
async fn detail_of(
    state: &AppState,
    viewer: Option<&Viewer>,
    post: PostRef<'_>,
) -> AppResult<Json<Envelope<PostDetail>>> {
    let mut conn = state.db().await?;
    let post = posts::record_view(&mut conn, viewer, post).await?;
    Ok(Json(Envelope::data(render_detail(&mut conn, post).await?)))
}

#[utoipa::path(get, operation_id = "getPostBySlug", path = "/api/posts/by-slug/{slug}", tag = "posts",
    params(("slug" = String, Path, description = "The post's slug (its `slug` field)")),
    responses((status = 200, description = "The post with its author and every comment, as `GET /api/posts/{id}`; counts a view", body = Envelope<PostDetail>), LegacyErrors))]
pub async fn detail_by_slug(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    Path(slug): Path<String>,
) -> AppResult<Json<Envelope<PostDetail>>> {
    detail_of(&state, viewer.as_ref(), PostRef::Slug(&slug)).await
}

#[utoipa::path(post, operation_id = "createPost", path = "/api/posts", tag = "posts", request_body = CreatePostBody, security(("bearer" = [])),
    responses((status = 201, description = "Post created successfully", body = Envelope<PostItem<AuthorDetail>>), LegacyErrors))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Changed(changed): Changed,
    JsonBody(body): JsonBody,
) -> AppResult<(StatusCode, Json<Envelope<PostItem<AuthorDetail>>>)> {
    let (input, decoded) = decode_post(&body);
    let input = validated(decoded, input.validate_new())?;
    let mut conn = state.db().await?;
    let post = posts::create(&mut conn, state.events(), &changed, &viewer, input).await?;
    let data = render_item(&mut conn, post).await?;
    Ok((
        StatusCode::CREATED,
        Json(Envelope::with_message("Post created successfully", data)),
    ))
}

#[utoipa::path(put, operation_id = "updatePost", path = "/api/posts/{id}", tag = "posts", security(("bearer" = [])),
    request_body(content = UpdatePostBody, description = "Optional: no body changes nothing"),
    params(("id" = Uuid, Path, description = "Post id")),
    responses((status = 200, description = "Post updated successfully (author or admin)", body = Envelope<PostItem<AuthorDetail>>), LegacyErrors))]
pub async fn update(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Changed(changed): Changed,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> AppResult<Json<Envelope<PostItem<AuthorDetail>>>> {
    let (input, mut decoded) = decode_post(&body);
    let id = put_id(&id, "Invalid post ID", &mut decoded);
    let input = validated(decoded, input.validate_changes())?;
    let mut conn = state.db().await?;
    let post = posts::update(&mut conn, state.events(), &changed, &viewer, id, input).await?;
    let data = render_item(&mut conn, post).await?;
    Ok(Json(Envelope::with_message("Post updated successfully", data)))
}

#[utoipa::path(delete, operation_id = "deletePost", path = "/api/posts/{id}", tag = "posts", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Post id")),
    responses((status = 200, description = "Post deleted successfully (author or admin)", body = Message), LegacyErrors))]
pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Changed(changed): Changed,
    Path(id): Path<String>,
) -> AppResult<Json<Message>> {
    let id = parse_id_or_not_found(&id, Resource::Any)?;
    posts::delete(&mut *state.db().await?, &changed, &viewer, id).await?;
    Ok(Json(Message::new("Post deleted successfully")))
}

#[utoipa::path(post, operation_id = "addComment", path = "/api/posts/{id}/comments", tag = "comments", request_body = CommentBody, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Post id")),
    responses((status = 201, description = "Comment added successfully", body = Envelope<LegacyComment>), LegacyErrors))]
pub async fn add_comment(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Changed(changed): Changed,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> AppResult<(StatusCode, Json<Envelope<LegacyComment>>)> {
    let post_id = parse_id_or_not_found(&id, Resource::Any)?;
    let (content, errors) = CommentBody::decode(&body);
    errors.into_result()?;
    let mut conn = state.db().await?;
    let content = content.unwrap_or_default();
    let comment = comments::add(&mut conn, state.events(), &changed, &viewer, post_id, &content).await?;
    let author = users::find(&mut conn, comment.author_id).await?;
    let data = LegacyComment::new(comment, author.as_ref());
    Ok((
        StatusCode::CREATED,
        Json(Envelope::with_message("Comment added successfully", data)),
    ))
}

#[utoipa::path(delete, operation_id = "deleteComment", path = "/api/posts/{id}/comments/{comment_id}", tag = "comments", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Post id"), ("comment_id" = Uuid, Path, description = "Comment id")),
    responses((status = 200, description = "Comment deleted successfully (its author, a moderator or an admin)", body = Message), LegacyErrors))]
pub async fn delete_comment(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Changed(changed): Changed,
    Path((post_id, comment_id)): Path<(String, String)>,
) -> AppResult<Json<Message>> {
    let post_id = parse_id_or_not_found(&post_id, Resource::Any)?;
    let comment_id = parse_id_or_not_found(&comment_id, Resource::Any)?;
    comments::delete(
        &mut *state.db().await?,
        &changed,
        &viewer,
        Some(post_id),
        comment_id,
    )
    .await?;
    Ok(Json(Message::new("Comment deleted successfully")))
}

async fn set_liked(
    state: &AppState,
    changed: &TagSet,
    viewer: &Viewer,
    id: &str,
    liked: bool,
) -> AppResult<Json<Envelope<LikeState>>> {
    let id = parse_id_or_not_found(id, Resource::Any)?;
    let post = likes::set_liked(&mut *state.db().await?, changed, viewer, id, liked).await?;
    Ok(Json(Envelope::data(LikeState {
        likes: post.likes_count,
        liked,
    })))
}

#[utoipa::path(post, operation_id = "likePost", path = "/api/posts/{id}/like", tag = "likes", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Post id")),
    responses((status = 200, description = "Liked (liking twice is a no-op)", body = Envelope<LikeState>), LegacyErrors))]
pub async fn like(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Changed(changed): Changed,
    Path(id): Path<String>,
) -> AppResult<Json<Envelope<LikeState>>> {
    set_liked(&state, &changed, &viewer, &id, true).await
}

#[utoipa::path(delete, operation_id = "unlikePost", path = "/api/posts/{id}/like", tag = "likes", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Post id")),
    responses((status = 200, description = "Unliked (a no-op when not liked)", body = Envelope<LikeState>), LegacyErrors))]
pub async fn unlike(
    State(state): State<AppState>,
    CurrentUser(viewer): CurrentUser,
    Changed(changed): Changed,
    Path(id): Path<String>,
) -> AppResult<Json<Envelope<LikeState>>> {
    set_liked(&state, &changed, &viewer, &id, false).await
}
