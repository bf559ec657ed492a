//! Data that tests of several features build on: a valid legacy post body, a post created
//! through REST, many posts with comments and likes inserted at once.

use axum::http::Method;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use super::app::{TestApp, TestResponse, TestUser};

/// A post body the legacy routes accept.
pub fn valid_post() -> Value {
    json!({ "title": "Test Post Title", "content": "This is test post content with enough characters",
            "category": "technology", "tags": ["test", "api"], "isPublished": true })
}

/// `POST /api/posts` as `user`.
pub async fn create_post(app: &TestApp, user: &TestUser, body: Value) -> TestResponse {
    app.call(Method::POST, "/api/posts", Some(&user.token), Some(body))
        .await
}

/// Inserts `posts` published posts by the given authors, each with `comments` comments and
/// one like per author, in three statements.
pub async fn bulk_posts(app: &TestApp, authors: &[uuid::Uuid], posts: i64, comments: i64) {
    let mut conn = app.db.connect().await;
    use diesel::sql_types::{Array, BigInt, Uuid as SqlUuid};
    diesel::sql_query(
        "INSERT INTO posts (id, author_id, title, content, category, tags, is_published, created_at, updated_at)
         SELECT gen_random_uuid(), ($1::uuid[])[1 + i % cardinality($1::uuid[])], 'Bulk post number ' || i,
                'Body of the bulk post ' || i || ' with enough text', 'technology', ARRAY['bulk'], true,
                timestamptz '2025-01-01' + make_interval(mins => i::int), timestamptz '2025-01-01' + make_interval(mins => i::int)
         FROM generate_series(1, $2) AS i",
    )
    .bind::<Array<SqlUuid>, _>(authors)
    .bind::<BigInt, _>(posts)
    .execute(&mut conn)
    .await
    .unwrap();
    diesel::sql_query(
        "INSERT INTO comments (id, post_id, author_id, content, created_at, updated_at)
         SELECT gen_random_uuid(), p.id, ($1::uuid[])[1 + k % cardinality($1::uuid[])], 'Comment ' || k,
                p.created_at + make_interval(secs => k::int), p.created_at + make_interval(secs => k::int)
         FROM posts p, generate_series(1, $2) AS k",
    )
    .bind::<Array<SqlUuid>, _>(authors)
    .bind::<BigInt, _>(comments)
    .execute(&mut conn)
    .await
    .unwrap();
    diesel::sql_query(
        "INSERT INTO post_likes (post_id, user_id) SELECT p.id, u FROM posts p, unnest($1::uuid[]) AS u",
    )
    .bind::<Array<SqlUuid>, _>(authors)
    .execute(&mut conn)
    .await
    .unwrap();
    diesel::sql_query(
        "UPDATE posts SET likes_count = (SELECT count(*) FROM post_likes l WHERE l.post_id = posts.id),
                          comments_count = (SELECT count(*) FROM comments c WHERE c.post_id = posts.id)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
}
