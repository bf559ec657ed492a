//! GraphQL writes: posts, comments, likes and views, with every permission rule.

use blog_gateway::db::models::Role;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::common::{TestApp, TestUser, error_code};

const UPDATE: &str = "mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { id title isPublished updatedAt } }";
const DELETE: &str = "mutation($id: ID!) { deletePost(id: $id) }";

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

#[tokio::test]
async fn creating_a_post_validates_every_field() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let anonymous = app
        .graphql("mutation { createPost(input: { title: \"Hello world\", content: \"Long enough body\", category: HEALTH }) { id } }", json!({}), None)
        .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");

    let tags: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    let invalid = app
        .graphql(
            "mutation($input: CreatePostInput!) { createPost(input: $input) { id } }",
            json!({ "input": { "title": "Hey", "content": "short", "category": "HEALTH", "tags": tags } }),
            Some(&ann.token),
        )
        .await;
    assert_eq!(error_code(&invalid), "BAD_USER_INPUT");
    let fields: Vec<&str> = invalid.body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["title", "content", "tags"]);

    let created = app
        .graphql_ok(
            "mutation($input: CreatePostInput!) { createPost(input: $input) { id title content category tags isPublished views likeCount commentCount popularity viewerHasLiked author { username } } }",
            json!({ "input": { "title": "  Trimmed title  ", "content": "A body that is long enough", "category": "HEALTH", "tags": ["a", "b"] } }),
            Some(&ann.token),
        )
        .await;
    let post = &created["createPost"];
    assert_eq!(post["title"], "Trimmed title");
    assert_eq!(post["isPublished"], false, "drafts by default");
    assert_eq!(post["category"], "HEALTH");
    assert_eq!(post["author"]["username"], "ann");
    let id = post["id"].as_str().unwrap();
    assert_eq!(
        uuid::Uuid::parse_str(id).unwrap().get_version_num(),
        7,
        "new ids are UUIDv7"
    );
}

#[tokio::test]
async fn posts_are_changed_by_their_author_or_an_admin() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let moderator = app.user("mod", Role::Moderator).await;
    let admin = app.user("root", Role::Admin).await;
    let published = app.post(&ann, "Ann's published post", true).await;
    let draft = app.post(&ann, "Ann's private draft", false).await;
    let rename = |id: &str| json!({ "id": id, "input": { "title": "Renamed title" } });

    // Someone else's published post: FORBIDDEN; someone else's draft: NOT_FOUND (not revealed).
    for other in [&bob, &moderator] {
        assert_eq!(
            error_code(&app.graphql(UPDATE, rename(&published), Some(&other.token)).await),
            "FORBIDDEN"
        );
        assert_eq!(
            error_code(&app.graphql(UPDATE, rename(&draft), Some(&other.token)).await),
            "NOT_FOUND"
        );
        assert_eq!(
            error_code(
                &app.graphql(DELETE, json!({ "id": published }), Some(&other.token))
                    .await
            ),
            "FORBIDDEN"
        );
        assert_eq!(
            error_code(
                &app.graphql(DELETE, json!({ "id": draft }), Some(&other.token))
                    .await
            ),
            "NOT_FOUND"
        );
    }
    assert_eq!(
        error_code(&app.graphql(UPDATE, rename(&published), None).await),
        "UNAUTHENTICATED"
    );
    let unknown = app
        .graphql(
            UPDATE,
            rename(&uuid::Uuid::now_v7().to_string()),
            Some(&ann.token),
        )
        .await;
    assert_eq!(error_code(&unknown), "NOT_FOUND");
    let invalid = app
        .graphql(
            UPDATE,
            json!({ "id": published, "input": { "title": "x" } }),
            Some(&ann.token),
        )
        .await;
    assert_eq!(error_code(&invalid), "BAD_USER_INPUT");

    let own = app.graphql_ok(UPDATE, rename(&published), Some(&ann.token)).await;
    assert_eq!(own["updatePost"]["title"], "Renamed title");
    let by_admin = app
        .graphql_ok(
            UPDATE,
            json!({ "id": draft, "input": { "isPublished": true } }),
            Some(&admin.token),
        )
        .await;
    assert_eq!(by_admin["updatePost"]["isPublished"], true);

    let deleted = app
        .graphql_ok(DELETE, json!({ "id": published }), Some(&ann.token))
        .await;
    assert_eq!(deleted["deletePost"], published.as_str());
    let gone = app
        .graphql_ok(
            "query($id: ID!) { post(id: $id) { id } }",
            json!({ "id": published }),
            Some(&ann.token),
        )
        .await;
    assert_eq!(gone["post"], Value::Null);
    let by_admin = app
        .graphql_ok(DELETE, json!({ "id": draft }), Some(&admin.token))
        .await;
    assert_eq!(by_admin["deletePost"], draft.as_str());
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
async fn views_are_counted_by_the_mutation_only() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let post = app.post(&ann, "A post to view", true).await;
    let read = "query($id: ID!) { post(id: $id) { views } }";
    app.graphql_ok(read, json!({ "id": post }), None).await;
    assert_eq!(
        app.graphql_ok(read, json!({ "id": post }), None).await["post"]["views"],
        0,
        "queries have no side effects"
    );
    let viewed = app
        .graphql_ok(
            "mutation($id: ID!) { viewPost(id: $id) { views } }",
            json!({ "id": post }),
            None,
        )
        .await;
    assert_eq!(viewed["viewPost"]["views"], 1);
    // views is bigint in Postgres and saturates in the 32-bit GraphQL Int.
    let mut conn = app.db.connect().await;
    use blog_gateway::db::schema::posts;
    diesel::update(posts::table)
        .set(posts::views.eq(5_000_000_000_i64))
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        app.graphql_ok(read, json!({ "id": post }), None).await["post"]["views"],
        i32::MAX
    );
}

#[tokio::test]
async fn filters_sorts_and_search_combine() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let q = "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }";
    let make = |title: &str, content: &str, category: &str, tags: Vec<&str>| json!({ "i": { "title": title, "content": content, "category": category, "tags": tags, "isPublished": true } });
    app.graphql_ok(
        q,
        make(
            "Rust ownership explained",
            "Borrowing and lifetimes in depth",
            "TECHNOLOGY",
            vec!["rust"],
        ),
        Some(&ann.token),
    )
    .await;
    app.graphql_ok(
        q,
        make(
            "Morning routines",
            "Coffee, then a walk in the garden",
            "LIFESTYLE",
            vec!["habits"],
        ),
        Some(&ann.token),
    )
    .await;
    app.graphql_ok(
        q,
        make(
            "Async Rust in practice",
            "Futures, executors and the rust compiler",
            "TECHNOLOGY",
            vec!["rust", "async"],
        ),
        Some(&bob.token),
    )
    .await;

    let titles = |data: &Value| -> Vec<String> {
        data["posts"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let search = app
        .graphql_ok(
            "{ posts(search: \"rust\") { totalCount nodes { title } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(search["posts"]["totalCount"], 2);
    let phrase = app
        .graphql_ok(
            "{ posts(search: \"rust -async\") { nodes { title } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(titles(&phrase), ["Rust ownership explained"]);
    let hostile = app
        .graphql_ok(
            "{ posts(search: \"'; DROP TABLE posts; --\") { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(hostile["posts"]["totalCount"], 0);
    let combined = app
        .graphql_ok(
            "query($a: ID) { posts(authorId: $a, tag: \"rust\", category: TECHNOLOGY) { nodes { title } } }",
            json!({ "a": bob.id }),
            None,
        )
        .await;
    assert_eq!(titles(&combined), ["Async Rust in practice"]);
    let sorted = app
        .graphql_ok("{ posts(sort: TITLE_ASC) { nodes { title } } }", json!({}), None)
        .await;
    assert_eq!(
        titles(&sorted),
        [
            "Async Rust in practice",
            "Morning routines",
            "Rust ownership explained"
        ]
    );
    let oldest = app
        .graphql_ok(
            "{ posts(sort: OLDEST, first: 1) { nodes { title } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(titles(&oldest), ["Rust ownership explained"]);

    // POPULAR: views + 2 x likes + 3 x comments, through popularPosts and the sort.
    let morning = app
        .graphql_ok("{ posts(category: LIFESTYLE) { nodes { id } } }", json!({}), None)
        .await["posts"]["nodes"][0]["id"]
        .clone();
    app.comment(&bob, morning.as_str().unwrap(), "Nice").await;
    let popular = app
        .graphql_ok("{ popularPosts(limit: 2) { title popularity } }", json!({}), None)
        .await;
    assert_eq!(
        popular["popularPosts"][0],
        json!({ "title": "Morning routines", "popularity": 3 })
    );
    let by_sort = app
        .graphql_ok(
            "{ posts(sort: POPULAR, first: 1) { nodes { title } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(titles(&by_sort), ["Morning routines"]);
}

#[tokio::test]
async fn relevance_orders_search_results_by_rank_and_pages_by_cursor() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let create = "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }";
    for (title, content) in [
        ("Cooking notes today", "Rust appears once in this text"),
        (
            "Rust rust rust",
            "All about rust: rust ownership, rust traits and rust macros",
        ),
        ("Gardening and rust", "Rust on tools, and how rust spreads"),
    ] {
        let input = json!({ "i": { "title": title, "content": content, "category": "TECHNOLOGY", "isPublished": true } });
        app.graphql_ok(create, input, Some(&ann.token)).await;
    }
    let query = "query($after: String) { posts(search: \"rust\", sort: RELEVANCE, first: 1, after: $after) { nodes { title } pageInfo { hasNextPage endCursor } } }";
    let mut titles = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app.graphql_ok(query, json!({ "after": after }), None).await;
        titles.push(data["posts"]["nodes"][0]["title"].as_str().unwrap().to_owned());
        if data["posts"]["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = data["posts"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(
        titles,
        ["Rust rust rust", "Gardening and rust", "Cooking notes today"]
    );
    let without_search = app
        .graphql("{ posts(sort: RELEVANCE) { totalCount } }", json!({}), None)
        .await;
    assert_eq!(error_code(&without_search), "BAD_USER_INPUT");
}
