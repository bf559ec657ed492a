//! Likes: one per user per post, idempotent, with the post's counter in the same transaction.

use chrono::{DateTime, Utc};
use diesel::helper_types::{InnerJoin, IntoBoxed};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::changes::{EntityTag, TagSet};
use super::page::{Cursor, CursorKey, Page, PageRequest, keyset_page};
use super::posts::visible_to;
use crate::db::models::{NewLike, Post};
use crate::db::schema::{post_likes, posts};
use crate::domain::viewer::Viewer;
use crate::error::{AppError, AppResult};

const LIKED_TAG: &str = "liked";

/// One keyset page of the posts `viewer` liked and can still see, the latest like first, each
/// with its cursor.
pub async fn liked_by(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    request: &PageRequest,
) -> AppResult<Page<(Post, Cursor)>> {
    let position = request
        .decode_cursor(LIKED_TAG)?
        .and_then(|cursor| cursor.time_key());
    let query = keyset_page!(
        liked_and_visible(viewer),
        post_likes::created_at,
        post_likes::post_id,
        descending: true,
        position,
        request.direction
    );
    let rows: Vec<(Post, DateTime<Utc>)> = query
        .limit(request.size + 1)
        .select((Post::as_select(), post_likes::created_at))
        .load(conn)
        .await?;
    let rows = rows
        .into_iter()
        .map(|(post, liked_at)| {
            let cursor = Cursor {
                tag: LIKED_TAG,
                key: CursorKey::Time(liked_at),
                id: post.id,
            };
            (post, cursor)
        })
        .collect();
    Ok(Page::from_rows(rows, request))
}

/// How many posts `viewer` liked and can still see.
pub async fn count_liked_by(conn: &mut AsyncPgConnection, viewer: &Viewer) -> AppResult<i64> {
    Ok(liked_and_visible(viewer).count().get_result(conn).await?)
}

/// The viewer's likes of posts the viewer can see, with the posts.
fn liked_and_visible(viewer: &Viewer) -> IntoBoxed<'static, InnerJoin<post_likes::table, posts::table>, Pg> {
    let mut query = post_likes::table
        .inner_join(posts::table)
        .filter(post_likes::user_id.eq(viewer.id))
        .into_boxed();
    if let Some(visible) = visible_to(Some(viewer)) {
        query = query.filter(visible);
    }
    query
}

/// Which of `post_ids` the user has liked (for the `viewerHasLiked` loader).
pub async fn liked_among(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    post_ids: &[Uuid],
) -> AppResult<Vec<Uuid>> {
    Ok(post_likes::table
        .filter(post_likes::user_id.eq(user_id))
        .filter(post_likes::post_id.eq_any(post_ids))
        .select(post_likes::post_id)
        .load(conn)
        .await?)
}

/// Likes (`liked = true`) or unlikes a visible post. Repeating either is a no-op; two concurrent
/// likes by one user count once (the primary key decides, the counter follows the row).
#[tracing::instrument(skip_all, fields(post = %post_id, viewer = %viewer.id, liked))]
pub async fn set_liked(
    conn: &mut AsyncPgConnection,
    changed: &TagSet,
    viewer: &Viewer,
    post_id: Uuid,
    liked: bool,
) -> AppResult<Post> {
    let viewer = viewer.clone();
    let (post, moved) = conn
        .transaction(async move |conn| {
            let post: Post = super::posts::find_visible_for_write(conn, &viewer, post_id).await?;
            let changed = if liked {
                diesel::insert_into(post_likes::table)
                    .values(NewLike {
                        post_id,
                        user_id: viewer.id,
                    })
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await?
            } else {
                diesel::delete(post_likes::table.find((post_id, viewer.id)))
                    .execute(conn)
                    .await?
            };
            if changed == 0 {
                return Ok::<_, AppError>((post, false));
            }
            let delta = if liked { 1 } else { -1 };
            let post = diesel::update(posts::table.find(post_id))
                .set(posts::likes_count.eq(posts::likes_count + delta))
                .returning(Post::as_returning())
                .get_result(conn)
                .await?;
            Ok((post, true))
        })
        .await?;
    // Its count, and the order by popularity.
    if moved {
        changed.extend([EntityTag::Post(post_id), EntityTag::PostPopular]);
    }
    Ok(post)
}
