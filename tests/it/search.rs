//! Full-text search newest first: plain-word searches read `post_search_terms`, every other
//! search the GIN index, and both must list the same posts in the same order.

use blog_gateway::db::models::Role;
use blog_gateway::db::schema::post_search_terms;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{TestApp, TestUser};

const CREATE: &str = "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }";
const PAGE: &str = "query($s: String, $after: String) { posts(search: $s, first: 2, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }";

async fn create(app: &TestApp, author: &TestUser, title: &str, content: &str, published: bool) -> String {
    let data = app
        .graphql_ok(
            CREATE,
            json!({ "i": { "title": title, "content": content, "category": "TECHNOLOGY", "isPublished": published } }),
            Some(&author.token),
        )
        .await;
    data["createPost"]["id"].as_str().unwrap().to_owned()
}

/// Every post a search lists through GraphQL, two per page, following the cursors.
async fn search_ids(app: &TestApp, search: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .graphql_ok(PAGE, json!({ "s": search, "after": after }), None)
            .await;
        let page = &data["posts"];
        ids.extend(
            page["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|node| node["id"].as_str().unwrap().to_owned()),
        );
        if page["pageInfo"]["hasNextPage"] != true {
            return ids;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// Every post a search lists through the legacy REST route, two per page.
async fn rest_search_ids(app: &TestApp, search: &str) -> Vec<String> {
    let encoded: String = url::form_urlencoded::byte_serialize(search.as_bytes()).collect();
    let mut ids = Vec::new();
    let mut page = 1;
    loop {
        let response = app
            .get(&format!("/api/posts?search={encoded}&limit=2&page={page}"), None)
            .await;
        assert_eq!(response.status, 200, "{}", response.text);
        let posts = response.body["data"].as_array().unwrap();
        if posts.is_empty() {
            return ids;
        }
        ids.extend(posts.iter().map(|post| post["_id"].as_str().unwrap().to_owned()));
        page += 1;
    }
}

async fn lexemes_of(app: &TestApp, post: &str) -> Vec<(String, bool)> {
    let mut conn = app.db.connect().await;
    post_search_terms::table
        .filter(post_search_terms::post_id.eq(post.parse::<Uuid>().unwrap()))
        .order(post_search_terms::lexeme)
        .select((post_search_terms::lexeme, post_search_terms::is_published))
        .load(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn plain_word_searches_list_what_the_full_text_index_lists() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let oldest = create(&app, &ann, "Rust ownership", "Borrowing in depth", true).await;
    create(&app, &bob, "Gardening", "Roses and tulips, nothing else", true).await;
    let both = create(&app, &bob, "Async Rust", "Futures and executors", true).await;
    let draft = create(&app, &ann, "Rust draft", "Not yet public", false).await;
    let async_only = create(&app, &ann, "Async Python", "Event loops everywhere", true).await;
    let newest = create(&app, &bob, "Rusting bikes", "Rust on old frames", true).await;

    // Plain words (term index) against the same words quoted (GIN index, same query).
    let rust = search_ids(&app, "rust").await;
    assert_eq!(rust, [newest.as_str(), both.as_str(), oldest.as_str()]);
    assert_eq!(search_ids(&app, "\"rust\"").await, rust);
    assert_eq!(rest_search_ids(&app, "rust").await, rust);
    assert_eq!(rest_search_ids(&app, "\"rust\"").await, rust);
    // Two words: posts holding both, whichever of them drives the scan.
    let two = search_ids(&app, "ASYNC  rust").await;
    assert_eq!(two, [both.as_str()]);
    assert_eq!(search_ids(&app, "\"async\" \"rust\"").await, two);
    assert_eq!(
        search_ids(&app, "async").await,
        [async_only.as_str(), both.as_str()]
    );
    // Stop words alone match nothing, on either path.
    assert!(search_ids(&app, "the and").await.is_empty());
    assert!(search_ids(&app, "\"the\"").await.is_empty());
    // Alternatives and exclusions stay with the GIN index.
    assert_eq!(
        search_ids(&app, "rust -async").await,
        [newest.as_str(), oldest.as_str()]
    );
    assert_eq!(
        search_ids(&app, "roses or python").await.len(),
        2,
        "`or` is an alternative, not a word"
    );

    // Writes keep the terms in step: publishing, editing the words away, deleting.
    assert!(
        lexemes_of(&app, &draft)
            .await
            .iter()
            .all(|(_, published)| !published)
    );
    let update = "mutation($id: ID!, $i: UpdatePostInput!) { updatePost(id: $id, input: $i) { id } }";
    app.graphql_ok(
        update,
        json!({ "id": draft, "i": { "isPublished": true } }),
        Some(&ann.token),
    )
    .await;
    assert!(
        lexemes_of(&app, &draft)
            .await
            .iter()
            .all(|(_, published)| *published)
    );
    assert_eq!(
        search_ids(&app, "rust").await,
        [newest.as_str(), draft.as_str(), both.as_str(), oldest.as_str()]
    );
    app.graphql_ok(
        update,
        json!({ "id": oldest, "i": { "title": "Ownership", "content": "Borrowing in depth" } }),
        Some(&ann.token),
    )
    .await;
    assert_eq!(
        lexemes_of(&app, &oldest).await,
        [
            ("borrow".to_owned(), true),
            ("depth".to_owned(), true),
            ("ownership".to_owned(), true)
        ]
    );
    app.graphql_ok(
        "mutation($id: ID!) { deletePost(id: $id) }",
        json!({ "id": newest }),
        Some(&bob.token),
    )
    .await;
    assert!(lexemes_of(&app, &newest).await.is_empty());
    let rust = search_ids(&app, "rust").await;
    assert_eq!(rust, [draft.as_str(), both.as_str()]);
    assert_eq!(search_ids(&app, "\"rust\"").await, rust);

    // The plain search really reads the terms: without a post's terms only the GIN path finds it.
    let mut conn = app.db.connect().await;
    diesel::delete(
        post_search_terms::table.filter(post_search_terms::post_id.eq(both.parse::<Uuid>().unwrap())),
    )
    .execute(&mut conn)
    .await
    .unwrap();
    assert_eq!(search_ids(&app, "rust").await, [draft.as_str()]);
    assert_eq!(
        search_ids(&app, "\"rust\"").await,
        [draft.as_str(), both.as_str()]
    );
}
