//! Likes and comments through both doors side by side: idempotent likes, counters moved once,
//! comments deleted by their author or a moderator.

use axum::http::{Method, StatusCode};
use blog_gateway::db::models::Role;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::common::{TestApp, TestUser, create_post, error_code, valid_post};

async fn counters(app: &TestApp, post_id: &str) -> (i32, i32) {
    let mut conn = app.db.connect().await;
    use blog_gateway::db::schema::posts;
    posts::table
        .find(post_id.parse::<uuid::Uuid>().unwrap())
        .select((posts::likes_count, posts::comments_count))
        .first(&mut conn)
        .await
        .unwrap()
}

async fn like(app: &TestApp, user: &TestUser, id: &str, liked: bool) -> Value {
    let field = if liked { "likePost" } else { "unlikePost" };
    app.graphql_ok(
        &format!("mutation($id: ID!) {{ {field}(id: $id) {{ likeCount viewerHasLiked }} }}"),
        json!({ "id": id }),
        Some(&user.token),
    )
    .await[field]
        .clone()
}

#[tokio::test]
async fn likes_are_idempotent_and_counted_once() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let post = app.post(&ann, "A post to like", true).await;
    assert_eq!(
        like(&app, &bob, &post, true).await,
        json!({ "likeCount": 1, "viewerHasLiked": true })
    );
    assert_eq!(
        like(&app, &bob, &post, true).await,
        json!({ "likeCount": 1, "viewerHasLiked": true }),
        "twice is a no-op"
    );
    assert_eq!(like(&app, &ann, &post, true).await["likeCount"], 2);
    assert_eq!(
        like(&app, &bob, &post, false).await,
        json!({ "likeCount": 1, "viewerHasLiked": false })
    );
    assert_eq!(
        like(&app, &bob, &post, false).await["likeCount"],
        1,
        "unliking again is a no-op"
    );

    // Concurrent likes by one user count once.
    let carol = app.user("carol", Role::User).await;
    let attempts = (0..8).map(|_| {
        app.graphql(
            "mutation($id: ID!) { likePost(id: $id) { likeCount } }",
            json!({ "id": post }),
            Some(&carol.token),
        )
    });
    for response in futures_util::future::join_all(attempts).await {
        assert!(response.body.get("errors").is_none(), "{}", response.text);
    }
    assert_eq!(counters(&app, &post).await.0, 2);

    let anonymous = app
        .graphql(
            "mutation($id: ID!) { likePost(id: $id) { id } }",
            json!({ "id": post }),
            None,
        )
        .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
    let draft = app.post(&ann, "An unlikeable draft", false).await;
    let hidden = app
        .graphql(
            "mutation($id: ID!) { likePost(id: $id) { id } }",
            json!({ "id": draft }),
            Some(&bob.token),
        )
        .await;
    assert_eq!(error_code(&hidden), "NOT_FOUND");
}

#[tokio::test]
async fn comments_move_the_counter_and_are_deleted_by_author_or_moderators() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let moderator = app.user("mod", Role::Moderator).await;
    let post = app.post(&ann, "A post to discuss", true).await;
    let add = "mutation($p: ID!, $c: String!) { addComment(postId: $p, content: $c) { id content author { username } post { id commentCount } } }";
    let first = app
        .graphql_ok(add, json!({ "p": post, "c": "  First!  " }), Some(&bob.token))
        .await;
    assert_eq!(first["addComment"]["content"], "First!");
    assert_eq!(first["addComment"]["post"]["commentCount"], 1);
    let second = app
        .graphql_ok(add, json!({ "p": post, "c": "Second" }), Some(&ann.token))
        .await;
    let first_id = first["addComment"]["id"].as_str().unwrap().to_owned();
    let second_id = second["addComment"]["id"].as_str().unwrap().to_owned();
    assert_eq!(counters(&app, &post).await.1, 2);

    for (content, expected) in [
        ("   ", "Comment content is required"),
        (
            &"x".repeat(2001)[..],
            "Comment must be between 1 and 2000 characters",
        ),
    ] {
        let bad = app
            .graphql(add, json!({ "p": post, "c": content }), Some(&bob.token))
            .await;
        assert_eq!(error_code(&bad), "BAD_USER_INPUT");
        assert_eq!(
            bad.body["errors"][0]["extensions"]["fields"][0]["message"],
            expected
        );
    }
    assert_eq!(counters(&app, &post).await.1, 2, "nothing written");

    let listed = app
        .graphql_ok(
            "query($id: ID!) { post(id: $id) { comments { totalCount nodes { id } } } }",
            json!({ "id": post }),
            None,
        )
        .await;
    assert_eq!(
        listed["post"]["comments"]["nodes"][0]["id"],
        first_id.as_str(),
        "oldest first"
    );

    let delete = "mutation($id: ID!) { deleteComment(id: $id) }";
    assert_eq!(
        error_code(
            &app.graphql(delete, json!({ "id": first_id }), Some(&ann.token))
                .await
        ),
        "FORBIDDEN",
        "the post's author is not the comment's"
    );
    assert_eq!(
        app.graphql_ok(delete, json!({ "id": first_id }), Some(&bob.token))
            .await["deleteComment"],
        first_id.as_str()
    );
    assert_eq!(
        app.graphql_ok(delete, json!({ "id": second_id }), Some(&moderator.token))
            .await["deleteComment"],
        second_id.as_str()
    );
    assert_eq!(
        error_code(
            &app.graphql(delete, json!({ "id": second_id }), Some(&moderator.token))
                .await
        ),
        "NOT_FOUND"
    );
    assert_eq!(counters(&app, &post).await.1, 0);
}

#[tokio::test]
async fn likes_and_comment_deletion() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let moderator = app.user("mod", Role::Moderator).await;
    let id = create_post(&app, &ann, valid_post()).await.body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let like = app
        .call(
            Method::POST,
            &format!("/api/posts/{id}/like"),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(
        like.body,
        json!({ "success": true, "data": { "likes": 1, "liked": true } })
    );
    let again = app
        .call(
            Method::POST,
            &format!("/api/posts/{id}/like"),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(again.body["data"]["likes"], 1);
    let unlike = app
        .call(
            Method::DELETE,
            &format!("/api/posts/{id}/like"),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(
        unlike.body,
        json!({ "success": true, "data": { "likes": 0, "liked": false } })
    );
    assert_eq!(
        app.call(Method::POST, &format!("/api/posts/{id}/like"), None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    let comment = app
        .call(
            Method::POST,
            &format!("/api/posts/{id}/comments"),
            Some(&bob.token),
            Some(json!({ "content": "Hi" })),
        )
        .await;
    let comment_id = comment.body["data"]["id"].as_str().unwrap().to_owned();
    let empty = app
        .call(
            Method::POST,
            &format!("/api/posts/{id}/comments"),
            Some(&bob.token),
            Some(json!({ "content": "   " })),
        )
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let path = format!("/api/posts/{id}/comments/{comment_id}");
    let by_ann = app.call(Method::DELETE, &path, Some(&ann.token), None).await;
    assert_eq!(by_ann.status, StatusCode::FORBIDDEN);
    let wrong_post = app
        .call(
            Method::DELETE,
            &format!("/api/posts/{}/comments/{comment_id}", uuid::Uuid::now_v7()),
            Some(&moderator.token),
            None,
        )
        .await;
    assert_eq!(wrong_post.status, StatusCode::NOT_FOUND);
    let by_mod = app
        .call(Method::DELETE, &path, Some(&moderator.token), None)
        .await;
    assert_eq!(
        by_mod.body,
        json!({ "success": true, "message": "Comment deleted successfully" })
    );
}

const UPDATE_COMMENT: &str = "mutation($id: ID!, $c: String!) { updateComment(id: $id, content: $c) { id content createdAt updatedAt author { username } } }";

#[tokio::test]
async fn only_its_author_rewrites_a_comment() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let moderator = app.user("mod", Role::Moderator).await;
    let admin = app.user("root", Role::Admin).await;
    let post = app.post(&ann, "A published post", true).await;
    let comment = app.comment(&bob, &post, "First words").await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    let rewritten = app
        .graphql_ok(
            UPDATE_COMMENT,
            json!({ "id": comment, "c": "  Better words  " }),
            Some(&bob.token),
        )
        .await;
    let updated = &rewritten["updateComment"];
    assert_eq!(updated["content"], "Better words", "trimmed as addComment trims");
    assert_eq!(updated["author"]["username"], "bob");
    assert!(
        updated["updatedAt"].as_str().unwrap() > updated["createdAt"].as_str().unwrap(),
        "{rewritten}"
    );
    let listed = app
        .graphql_ok(
            "query($p: ID!) { post(id: $p) { comments { nodes { content } } } }",
            json!({ "p": post }),
            None,
        )
        .await;
    assert_eq!(listed["post"]["comments"]["nodes"][0]["content"], "Better words");

    for other in [&ann, &moderator, &admin] {
        let refused = app
            .graphql(
                UPDATE_COMMENT,
                json!({ "id": comment, "c": "Not yours" }),
                Some(&other.token),
            )
            .await;
        assert_eq!(
            error_code(&refused),
            "FORBIDDEN",
            "{}: {}",
            other.username,
            refused.text
        );
        assert_eq!(
            refused.body["errors"][0]["message"],
            "Not authorized to update this comment"
        );
    }
    let anonymous = app
        .graphql(UPDATE_COMMENT, json!({ "id": comment, "c": "Nobody" }), None)
        .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
    let blank = app
        .graphql(
            UPDATE_COMMENT,
            json!({ "id": comment, "c": "   " }),
            Some(&bob.token),
        )
        .await;
    assert_eq!(error_code(&blank), "BAD_USER_INPUT");
    assert_eq!(
        blank.body["errors"][0]["message"],
        "Validation failed: Comment content is required"
    );
    let long = app
        .graphql(
            UPDATE_COMMENT,
            json!({ "id": comment, "c": "x".repeat(2001) }),
            Some(&bob.token),
        )
        .await;
    assert_eq!(error_code(&long), "BAD_USER_INPUT");
    let unknown = app
        .graphql(
            UPDATE_COMMENT,
            json!({ "id": uuid::Uuid::new_v4(), "c": "Anywhere" }),
            Some(&bob.token),
        )
        .await;
    assert_eq!(error_code(&unknown), "NOT_FOUND");

    // A comment whose post became a draft is out of its author's reach with the post.
    app.graphql_ok(
        "mutation($id: ID!) { updatePost(id: $id, input: { isPublished: false }) { id } }",
        json!({ "id": post }),
        Some(&ann.token),
    )
    .await;
    let hidden = app
        .graphql(
            UPDATE_COMMENT,
            json!({ "id": comment, "c": "Still mine" }),
            Some(&bob.token),
        )
        .await;
    assert_eq!(error_code(&hidden), "NOT_FOUND", "{}", hidden.text);
}

const LIKED: &str = "query($u: ID!, $a: String) { user(id: $u) { likedPosts(first: 1, after: $a) { \
    totalCount nodes { id } pageInfo { hasNextPage endCursor } } } }";

#[tokio::test]
async fn liked_posts_are_the_viewers_own_latest_first() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let admin = app.user("root", Role::Admin).await;
    let first = app.post(&bob, "First liked post", true).await;
    let second = app.post(&bob, "Second liked post", true).await;
    let hidden = app.post(&bob, "Soon a draft again", true).await;
    for post in [&first, &hidden, &second] {
        app.graphql_ok(
            "mutation($id: ID!) { likePost(id: $id) { id } }",
            json!({ "id": post }),
            Some(&ann.token),
        )
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    app.graphql_ok(
        "mutation($id: ID!) { updatePost(id: $id, input: { isPublished: false }) { id } }",
        json!({ "id": hidden }),
        Some(&bob.token),
    )
    .await;

    let page = app
        .graphql_ok(LIKED, json!({ "u": ann.id }), Some(&ann.token))
        .await;
    let liked = &page["user"]["likedPosts"];
    assert_eq!(
        liked["totalCount"], 2,
        "a post ann can no longer see is left out: {page}"
    );
    assert_eq!(liked["nodes"], json!([{ "id": second }]), "the latest like first");
    assert_eq!(liked["pageInfo"]["hasNextPage"], true);
    let next = app
        .graphql_ok(
            LIKED,
            json!({ "u": ann.id, "a": liked["pageInfo"]["endCursor"] }),
            Some(&ann.token),
        )
        .await;
    assert_eq!(next["user"]["likedPosts"]["nodes"], json!([{ "id": first }]));
    assert_eq!(next["user"]["likedPosts"]["pageInfo"]["hasNextPage"], false);
    let mine = app
        .graphql_ok(
            "{ me { likedPosts { totalCount } } }",
            json!({}),
            Some(&ann.token),
        )
        .await;
    assert_eq!(mine["me"]["likedPosts"]["totalCount"], 2);

    for token in [None, Some(bob.token.as_str()), Some(admin.token.as_str())] {
        let others = app.graphql_ok(LIKED, json!({ "u": ann.id }), token).await;
        assert_eq!(others["user"]["likedPosts"], Value::Null, "{others}");
    }
    let bad_cursor = app
        .graphql(
            LIKED,
            json!({ "u": ann.id, "a": "not-a-cursor" }),
            Some(&ann.token),
        )
        .await;
    assert_eq!(error_code(&bad_cursor), "BAD_USER_INPUT");
}
