//! Likes: one per user per post, idempotent, with the post's counter in the same transaction.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::models::{NewLike, Post};
use crate::db::schema::{post_likes, posts};
use crate::domain::viewer::Viewer;
use crate::error::AppResult;

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
    viewer: &Viewer,
    post_id: Uuid,
    liked: bool,
) -> AppResult<Post> {
    let viewer = viewer.clone();
    conn.transaction(async move |conn| {
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
            return Ok(post);
        }
        let delta = if liked { 1 } else { -1 };
        Ok(diesel::update(posts::table.find(post_id))
            .set(posts::likes_count.eq(posts::likes_count + delta))
            .returning(Post::as_returning())
            .get_result(conn)
            .await?)
    })
    .await
}
