//! Comments: listing per post (batched), adding and deleting with the post's counter in step.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::changes::{EntityTag, TagSet};
use super::page::{Cursor, CursorKey, Direction, Page, PageRequest, keyset_page};
use super::validate::{char_len, check_no_nul};
use crate::db::first_per_key::FirstCommentsOfPosts;
use crate::db::models::{Comment, NewComment, Post, User, UserByline};
use crate::db::schema::{comments, posts, users};
use crate::domain::viewer::Viewer;
use crate::error::{AppError, AppResult, Denial, FieldErrors, Resource};
use crate::events::{Event, EventBus};

const CURSOR_TAG: &str = "comments";

/// Longest comment accepted, in characters after trimming.
pub const MAX_COMMENT_CHARS: usize = 2000;

pub fn cursor_of(comment: &Comment) -> Cursor {
    Cursor {
        tag: CURSOR_TAG,
        key: CursorKey::Time(comment.created_at),
        id: comment.id,
    }
}

/// A keyset page of one post's comments, oldest first.
pub async fn list_for_post(
    conn: &mut AsyncPgConnection,
    post_id: Uuid,
    request: &PageRequest,
) -> AppResult<Page<Comment>> {
    let position = request
        .decode_cursor(CURSOR_TAG)?
        .and_then(|cursor| cursor.time_key());
    let query = comments::table.filter(comments::post_id.eq(post_id)).into_boxed();
    let rows = keyset_page!(query, comments::created_at, comments::id, descending: false, position, request.direction)
        .limit(request.size + 1)
        .select(Comment::as_select())
        .load(conn)
        .await?;
    Ok(Page::from_rows(rows, request))
}

/// Every comment of a post, oldest first (the legacy detail embeds them all).
pub async fn all_for_post(conn: &mut AsyncPgConnection, post_id: Uuid) -> AppResult<Vec<Comment>> {
    Ok(comments::table
        .filter(comments::post_id.eq(post_id))
        .order((comments::created_at.asc(), comments::id.asc()))
        .select(Comment::as_select())
        .load(conn)
        .await?)
}

/// The first `limit` comments of each post (backward: the last `limit`), listed oldest first,
/// with their authors' bylines, in one statement.
/// No extra row per post: the post's comment counter tells whether more follow
/// (`Page::end_of_counted`), which spares Postgres a row and an author lookup per post.
pub async fn first_for_posts(
    conn: &mut AsyncPgConnection,
    post_ids: &[Uuid],
    limit: i64,
    direction: Direction,
) -> AppResult<Vec<(Comment, UserByline)>> {
    Ok(match direction {
        Direction::Forward => {
            FirstCommentsOfPosts::<false>::new(post_ids, limit)
                .load(conn)
                .await?
        }
        Direction::Backward => {
            FirstCommentsOfPosts::<true>::new(post_ids, limit)
                .load(conn)
                .await?
        }
    })
}

/// Trims and checks a comment body: 1-2000 characters.
pub fn validate_content(content: &str) -> AppResult<String> {
    let content = content.trim().to_owned();
    let mut errors = FieldErrors::new();
    if check_no_nul(&mut errors, "content", &content) {
        if content.is_empty() {
            errors.add("content", content.as_str(), "Comment content is required");
        } else if char_len(&content) > MAX_COMMENT_CHARS {
            errors.add(
                "content",
                content.as_str(),
                format!("Comment must be between 1 and {MAX_COMMENT_CHARS} characters"),
            );
        }
    }
    errors.into_result()?;
    Ok(content)
}

/// What adding or removing `comment` changes: it, its post's list and count, and the order by
/// popularity.
fn comment_moved(changed: &TagSet, comment: &Comment) {
    changed.extend([
        EntityTag::Comment(comment.id),
        EntityTag::CommentList(comment.post_id),
        EntityTag::Post(comment.post_id),
        EntityTag::PostPopular,
    ]);
}

/// Adds a comment by the viewer to a post the viewer can see; the post's counter moves with it.
#[tracing::instrument(skip_all, fields(post = %post_id, viewer = %viewer.id))]
pub async fn add(
    conn: &mut AsyncPgConnection,
    events: &EventBus,
    changed: &TagSet,
    viewer: &Viewer,
    post_id: Uuid,
    content: &str,
) -> AppResult<Comment> {
    let content = validate_content(content)?;
    let viewer = viewer.clone();
    let comment = conn
        .transaction(async move |conn| {
            let post: Post = super::posts::find_visible_for_write(conn, &viewer, post_id).await?;
            let comment = diesel::insert_into(comments::table)
                .values(NewComment {
                    id: Uuid::now_v7(),
                    post_id: post.id,
                    author_id: viewer.id,
                    content: &content,
                })
                .returning(Comment::as_returning())
                .get_result(conn)
                .await?;
            diesel::update(posts::table.find(post.id))
                .set(posts::comments_count.eq(posts::comments_count + 1))
                .execute(conn)
                .await?;
            Ok::<_, AppError>(comment)
        })
        .await?;
    comment_moved(changed, &comment);
    events
        .publish(Event::CommentAdded {
            post_id: comment.post_id,
            comment_id: comment.id,
        })
        .await;
    Ok(comment)
}

/// A comment by id with its post, whoever asks (see [`visible`]).
pub async fn find_with_post(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Option<(Comment, Post)>> {
    Ok(comments::table
        .inner_join(posts::table)
        .filter(comments::id.eq(id))
        .select((Comment::as_select(), Post::as_select()))
        .first(conn)
        .await
        .optional()?)
}

/// A comment with its post and its author, in one statement (an event's row: see
/// `graphql::fanout`).
pub async fn find_with_post_and_author(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> AppResult<Option<(Comment, Post, User)>> {
    Ok(comments::table
        .inner_join(posts::table)
        .inner_join(users::table.on(users::id.eq(comments::author_id)))
        .filter(comments::id.eq(id))
        .select((Comment::as_select(), Post::as_select(), User::as_select()))
        .first(conn)
        .await
        .optional()?)
}

/// Comments by id with their posts, in one statement, in any order, whoever asks (batch
/// loaders; the caller applies [`visible`]).
pub async fn by_ids_with_post(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> AppResult<Vec<(Comment, Post)>> {
    Ok(comments::table
        .inner_join(posts::table)
        .filter(comments::id.eq_any(ids))
        .select((Comment::as_select(), Post::as_select()))
        .load(conn)
        .await?)
}

/// The comment, when `viewer` may see it: a comment is visible exactly when its post is (a post
/// unpublished after the comment was written takes its comments with it).
pub fn visible((comment, post): (Comment, Post), viewer: Option<&Viewer>) -> Option<Comment> {
    super::posts::is_visible(&post, viewer).then_some(comment)
}

/// Rewrites a comment: its author only (moderators and admins may delete a comment, never put
/// words in its author's mouth), with the rules of [`add`]; `updated_at` moves. A comment the
/// viewer cannot see (its post is someone else's draft) is not found.
#[tracing::instrument(skip_all, fields(comment = %id, viewer = %viewer.id))]
pub async fn update(
    conn: &mut AsyncPgConnection,
    changed: &TagSet,
    viewer: &Viewer,
    id: Uuid,
    content: &str,
) -> AppResult<Comment> {
    let content = validate_content(content)?;
    let comment = find_with_post(conn, id)
        .await?
        .and_then(|row| visible(row, Some(viewer)))
        .ok_or(AppError::NotFound(Resource::Comment))?;
    if comment.author_id != viewer.id {
        return Err(AppError::Forbidden(Denial::UpdateComment));
    }
    diesel::update(comments::table.find(id))
        .filter(comments::author_id.eq(viewer.id))
        .set((
            comments::content.eq(content),
            comments::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Comment::as_returning())
        .get_result(conn)
        .await
        .optional()?
        .ok_or(AppError::NotFound(Resource::Comment))
        .inspect(|_| changed.add(EntityTag::Comment(id)))
}

/// Deletes a comment: its author, a moderator or an admin. `post_id` scopes the lookup when the
/// caller addressed the comment through its post.
#[tracing::instrument(skip_all, fields(comment = %id, viewer = %viewer.id))]
pub async fn delete(
    conn: &mut AsyncPgConnection,
    changed: &TagSet,
    viewer: &Viewer,
    post_id: Option<Uuid>,
    id: Uuid,
) -> AppResult<Comment> {
    let viewer = viewer.clone();
    let comment = conn
        .transaction(async move |conn| {
            let comment: Comment = comments::table
                .find(id)
                .select(Comment::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?
                .filter(|c| post_id.is_none_or(|p| c.post_id == p))
                .ok_or(AppError::NotFound(Resource::Comment))?;
            if comment.author_id != viewer.id && !viewer.is_moderator() {
                return Err(AppError::Forbidden(Denial::DeleteComment));
            }
            diesel::delete(comments::table.find(id)).execute(conn).await?;
            diesel::update(posts::table.find(comment.post_id))
                .set(posts::comments_count.eq(posts::comments_count - 1))
                .execute(conn)
                .await?;
            Ok::<_, AppError>(comment)
        })
        .await?;
    comment_moved(changed, &comment);
    Ok(comment)
}
