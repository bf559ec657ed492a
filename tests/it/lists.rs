//! Lists of posts and users through both doors side by side: filters, sorts, search, pages
//! and cursors, popularity.

use axum::http::{Method, StatusCode};
use blog_gateway::db::models::Role;
use serde_json::{Value, json};

use crate::common::{TestApp, bulk_posts, create_post, error_code, sql_ids, valid_post};

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

#[tokio::test]
async fn posts_are_published_only_newest_first_and_paginate_by_cursor() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(app.post(&ann, &format!("Published post {i}"), true).await);
    }
    let draft = app.post(&ann, "A private draft", false).await;

    let page = |after: Value| {
        let app = &app;
        async move {
            app.graphql_ok(
                "query($after: String) { posts(first: 2, after: $after) { totalCount edges { cursor node { id } } nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }",
                json!({ "after": after }),
                None,
            )
            .await
        }
    };
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = page(after.clone()).await;
        let posts = &data["posts"];
        assert_eq!(posts["totalCount"], 5);
        for node in posts["nodes"].as_array().unwrap() {
            seen.push(node["id"].as_str().unwrap().to_owned());
        }
        assert_eq!(posts["edges"][0]["node"]["id"], posts["nodes"][0]["id"]);
        assert_eq!(posts["pageInfo"]["hasPreviousPage"], !after.is_null());
        if posts["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = posts["pageInfo"]["endCursor"].clone();
    }
    created.reverse();
    assert_eq!(seen, created, "newest first, every published post once");
    assert!(!seen.contains(&draft));
}

#[tokio::test]
async fn bad_cursors_and_page_sizes_are_bad_user_input() {
    let app = TestApp::new().await;
    for (query, field) in [
        ("{ posts(after: \"garbage\") { nodes { id } } }", "after"),
        ("{ posts(first: 101) { nodes { id } } }", "first"),
        ("{ posts(first: -1) { nodes { id } } }", "first"),
    ] {
        let response = app.graphql(query, json!({}), None).await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{}", response.text);
        assert_eq!(
            response.body["errors"][0]["extensions"]["fields"][0]["field"],
            field
        );
    }
    // A cursor of one sort order is refused by another.
    let ann = app.user("ann", Role::User).await;
    app.post(&ann, "Published post one", true).await;
    app.post(&ann, "Published post two", true).await;
    let data = app
        .graphql_ok("{ posts(first: 1) { pageInfo { endCursor } } }", json!({}), None)
        .await;
    let cursor = data["posts"]["pageInfo"]["endCursor"].clone();
    let response = app
        .graphql(
            "query($c: String) { posts(first: 1, after: $c, sort: TITLE_ASC) { nodes { id } } }",
            json!({ "c": cursor }),
            None,
        )
        .await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT");
}

#[tokio::test]
async fn comment_pages_know_whether_more_follow_and_page_through_all() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    bulk_posts(&app, &[ann.id], 2, 7).await;

    const FIRST: &str = "query($n: Int) { posts(first: 2) { nodes { comments(first: $n) {
        nodes { id } pageInfo { hasNextPage endCursor } } } } }";
    for (n, more) in [(1, true), (5, true), (6, true), (7, false), (10, false)] {
        let data = app.graphql_ok(FIRST, json!({ "n": n }), None).await;
        for post in data["posts"]["nodes"].as_array().unwrap() {
            let comments = &post["comments"];
            assert_eq!(comments["nodes"].as_array().unwrap().len(), n.min(7), "first {n}");
            assert_eq!(comments["pageInfo"]["hasNextPage"], more, "first {n}: {comments}");
        }
    }

    // From the first page on through cursors: every comment once, in order.
    const NEXT: &str = "query($id: ID!, $after: String) { post(id: $id) { comments(first: 3, after: $after) {
        nodes { id } pageInfo { hasNextPage endCursor } } } }";
    let post_id = app
        .graphql_ok("{ posts(first: 1) { nodes { id } } }", json!({}), None)
        .await["posts"]["nodes"][0]["id"]
        .clone();
    let (mut seen, mut after) = (Vec::new(), Value::Null);
    for _ in 0..5 {
        let data = app
            .graphql_ok(NEXT, json!({ "id": post_id, "after": after }), None)
            .await;
        let comments = &data["post"]["comments"];
        seen.extend(
            comments["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].clone()),
        );
        if comments["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = comments["pageInfo"]["endCursor"].clone();
    }
    // Three pages (3 + 3 + 1), the last one saying nothing more follows.
    assert_eq!(seen.len(), 7);
    let unique: std::collections::HashSet<String> = seen.iter().map(ToString::to_string).collect();
    assert_eq!(unique.len(), 7);
}

#[tokio::test]
async fn legacy_should_get_all_posts_and_filter_by_category() {
    let app = TestApp::new().await;
    let user = app.user("testuser", Role::User).await;
    for (title, category) in [("First Post", "technology"), ("Second Post", "lifestyle")] {
        let body = json!({ "title": title, "content": format!("Content of {title}"), "category": category, "isPublished": true });
        assert_eq!(create_post(&app, &user, body).await.status, StatusCode::CREATED);
    }
    let all = app.get("/api/posts", None).await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.body["success"], true);
    assert_eq!(all.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(all.body["pagination"]["total"], 2);
    let tech = app.get("/api/posts?category=technology", None).await;
    assert_eq!(tech.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(tech.body["data"][0]["category"], "technology");
}

#[tokio::test]
async fn list_items_have_the_legacy_shape_and_pagination() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    for i in 0..3 {
        let body = json!({ "title": format!("Post number {i}"), "content": "Content long enough", "category": "business", "tags": ["x"], "isPublished": true });
        create_post(&app, &ann, body).await;
    }
    create_post(
        &app,
        &ann,
        json!({ "title": "Draft post", "content": "Content long enough", "category": "business" }),
    )
    .await;
    let page = app.get("/api/posts?page=2&limit=2&sort=title", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.body["pagination"],
        json!({ "page": 2, "limit": 2, "total": 3, "pages": 2 })
    );
    let item = &page.body["data"][0];
    assert_eq!(item["title"], "Post number 2");
    let keys: Vec<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
    for key in [
        "_id",
        "id",
        "title",
        "content",
        "category",
        "tags",
        "isPublished",
        "views",
        "likes",
        "commentCount",
        "author",
        "createdAt",
        "updatedAt",
    ] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
    assert_eq!(item["_id"], item["id"]);
    assert_eq!(
        item["author"],
        json!({ "_id": ann.id, "id": ann.id, "username": "ann", "profile": { "firstName": "Test", "lastName": "ann" } })
    );
    assert!(item["createdAt"].as_str().unwrap().ends_with('Z'));

    let invalid = app.get("/api/posts?page=0&limit=500&sort=random", None).await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    assert_eq!(invalid.body["message"], "Validation failed");
    let messages: Vec<&str> = invalid.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["msg"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "Page must be a positive integer",
            "Limit must be between 1 and 100",
            "Invalid sort parameter"
        ]
    );
    assert_eq!(invalid.body["errors"][0]["location"], "query");
}

#[tokio::test]
async fn popular_and_users_routes() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let id = create_post(&app, &ann, valid_post()).await.body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.call(
        Method::POST,
        &format!("/api/posts/{id}/like"),
        Some(&bob.token),
        None,
    )
    .await;
    let popular = app.get("/api/posts/popular?limit=5", None).await;
    assert_eq!(popular.status, StatusCode::OK);
    assert_eq!(popular.body["data"][0]["likes"], 1);
    let zero = app.get("/api/posts/popular?limit=0", None).await;
    assert_eq!(zero.status, StatusCode::BAD_REQUEST);
    assert_eq!(zero.body["errors"][0]["location"], "query", "{}", zero.text);

    let me = app.get("/api/users/me", Some(&ann.token)).await;
    assert_eq!(me.body["data"]["username"], "ann");
    assert_eq!(me.body["data"]["fullName"], "Test ann");
    assert!(me.body["data"].get("passwordHash").is_none() && !me.text.contains("argon2"));
    assert_eq!(
        app.get("/api/users/me", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let other = app.get(&format!("/api/users/{}", bob.id), None).await;
    assert_eq!(other.body["data"]["username"], "bob");
    assert!(other.body["data"].get("email").is_none());
    assert_eq!(
        app.get(&format!("/api/users/{}", uuid::Uuid::now_v7()), None)
            .await
            .body["message"],
        "User not found"
    );
}

/// `first: 0` is an empty page that still says whether items follow (Relay's cursor
/// connections), on every connection, first page or after a cursor.
#[tokio::test]
async fn first_zero_is_an_empty_page_with_an_exact_has_next_page() {
    let app = TestApp::new().await;
    let admin = app.user("root", Role::Admin).await;
    let ann = app.user("ann", Role::User).await;
    let mut posts = Vec::new();
    for title in ["First post here", "Second post here", "Third post here"] {
        posts.push(app.post(&ann, title, true).await);
    }
    for content in ["one", "two", "three"] {
        app.comment(&ann, &posts[0], content).await;
    }
    let start = app
        .graphql_ok(
            "query($p: ID!, $u: ID!) { posts(first: 1) { pageInfo { endCursor } } \
               post(id: $p) { comments(first: 1) { pageInfo { endCursor } } } \
               user(id: $u) { posts(first: 1) { pageInfo { endCursor } } } }",
            json!({ "p": posts[0], "u": ann.id }),
            None,
        )
        .await;
    let document = "query($p: ID!, $u: ID!, $a: String, $c: String, $up: String) { \
          posts(first: 0, after: $a) { nodes { id } pageInfo { hasNextPage } } \
          post(id: $p) { comments(first: 0, after: $c) { nodes { id } pageInfo { hasNextPage } } } \
          user(id: $u) { posts(first: 0, after: $up) { nodes { id } pageInfo { hasNextPage } } } \
          users(first: 0) { nodes { id } pageInfo { hasNextPage } } }";
    for cursors in [
        json!({}),
        json!({
            "a": start["posts"]["pageInfo"]["endCursor"],
            "c": start["post"]["comments"]["pageInfo"]["endCursor"],
            "up": start["user"]["posts"]["pageInfo"]["endCursor"],
        }),
    ] {
        let mut variables = cursors.clone();
        variables["p"] = json!(posts[0]);
        variables["u"] = json!(ann.id);
        let data = app.graphql_ok(document, variables, Some(&admin.token)).await;
        for connection in [
            &data["posts"],
            &data["post"]["comments"],
            &data["user"]["posts"],
            &data["users"],
        ] {
            assert_eq!(connection["nodes"], json!([]), "{data}");
            assert_eq!(connection["pageInfo"]["hasNextPage"], true, "{cursors}: {data}");
        }
    }
    // The last page's cursor: nothing follows.
    let end = app
        .graphql_ok("{ posts(first: 3) { pageInfo { endCursor } } }", json!({}), None)
        .await;
    let after_last = app
        .graphql_ok(
            "query($a: String) { posts(first: 0, after: $a) { pageInfo { hasNextPage } } }",
            json!({ "a": end["posts"]["pageInfo"]["endCursor"] }),
            None,
        )
        .await;
    assert_eq!(after_last["posts"]["pageInfo"]["hasNextPage"], false);
}

const TAGS: &str = "query($first: Int, $after: String, $search: String) { \
    tags(first: $first, after: $after, search: $search) { totalCount nodes { name postCount } \
    pageInfo { hasNextPage endCursor } } }";

#[tokio::test]
async fn tags_of_published_posts_with_their_counts_in_pages() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    for (tags, published) in [
        (json!(["rust", "web"]), true),
        (json!(["rust"]), true),
        (json!(["Rust-lang", "db"]), true),
        (json!(["secret", "rust"]), false),
        (json!(["100%_pure"]), true),
    ] {
        let mut body = valid_post();
        body["tags"] = tags;
        body["isPublished"] = json!(published);
        let created = create_post(&app, &ann, body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    }
    let first = app.graphql_ok(TAGS, json!({ "first": 3 }), None).await;
    let tags = &first["tags"];
    assert_eq!(tags["totalCount"], 5, "{first}");
    assert_eq!(
        tags["nodes"],
        json!([
            { "name": "100%_pure", "postCount": 1 },
            { "name": "Rust-lang", "postCount": 1 },
            { "name": "db", "postCount": 1 }
        ]),
        "byte order, drafts' tags left out"
    );
    assert_eq!(tags["pageInfo"]["hasNextPage"], true);
    let rest = app
        .graphql_ok(
            TAGS,
            json!({ "first": 3, "after": tags["pageInfo"]["endCursor"] }),
            None,
        )
        .await;
    assert_eq!(
        rest["tags"]["nodes"],
        json!([{ "name": "rust", "postCount": 2 }, { "name": "web", "postCount": 1 }]),
        "a draft does not count"
    );
    assert_eq!(rest["tags"]["pageInfo"]["hasNextPage"], false);

    let search = app.graphql_ok(TAGS, json!({ "search": "RUST" }), None).await;
    let names: Vec<&str> = search["tags"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Rust-lang", "rust"]);
    assert_eq!(search["tags"]["totalCount"], 2);
    for literal in ["%", "_"] {
        let found = app.graphql_ok(TAGS, json!({ "search": literal }), None).await;
        assert_eq!(
            found["tags"]["nodes"],
            json!([{ "name": "100%_pure", "postCount": 1 }]),
            "{literal} matches itself"
        );
    }
    for variables in [
        json!({ "first": 101 }),
        json!({ "after": "not-a-cursor" }),
        json!({ "search": "a\u{0}b" }),
    ] {
        let refused = app.graphql(TAGS, variables.clone(), None).await;
        assert_eq!(
            error_code(&refused),
            "BAD_USER_INPUT",
            "{variables}: {}",
            refused.text
        );
    }
}

/// `last`/`before` on every connection: pages from the end in the list's order, with exact
/// `hasPreviousPage`/`hasNextPage`; both directions at once is refused.
#[tokio::test]
async fn backward_pages_on_every_connection() {
    let app = TestApp::new().await;
    let admin = app.user("root", Role::Admin).await;
    let ann = app.user("ann", Role::User).await;
    let mut posts = Vec::new();
    for n in 0..3 {
        let mut body = valid_post();
        body["title"] = json!(format!("Backward post {n}"));
        body["tags"] = json!([format!("tag{n}")]);
        let created = create_post(&app, &ann, body).await;
        posts.push(created.body["data"]["id"].as_str().unwrap().to_owned());
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    for content in ["one", "two", "three"] {
        app.comment(&ann, &posts[0], content).await;
    }
    for post in &posts {
        app.graphql_ok(
            "mutation($id: ID!) { likePost(id: $id) { id } }",
            json!({ "id": post }),
            Some(&ann.token),
        )
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // Relay's clients send the other direction's arguments as null.
    let document = "query($p: ID!, $u: ID!, $first: Int, $last: Int, $before: String) { \
        posts(first: $first, last: $last, before: $before) { nodes { id } pageInfo { hasPreviousPage hasNextPage startCursor } } \
        post(id: $p) { comments(last: $last, before: $before) { nodes { content } pageInfo { hasPreviousPage hasNextPage } } } \
        user(id: $u) { posts(last: $last) { nodes { id } } likedPosts(last: $last) { nodes { id } pageInfo { hasPreviousPage } } } \
        tags(last: $last) { nodes { name } pageInfo { hasPreviousPage } } }";
    let data = app
        .graphql_ok(
            document,
            json!({ "p": posts[0], "u": ann.id, "first": null, "last": 2, "before": null }),
            Some(&ann.token),
        )
        .await;
    // Newest first: the last two are the two oldest, in the list's order.
    assert_eq!(
        data["posts"]["nodes"],
        json!([{ "id": posts[1] }, { "id": posts[0] }]),
        "{data}"
    );
    assert_eq!(data["posts"]["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(data["posts"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(
        data["post"]["comments"]["nodes"],
        json!([{ "content": "two" }, { "content": "three" }]),
        "oldest first: the last two comments"
    );
    assert_eq!(data["post"]["comments"]["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(
        data["user"]["posts"]["nodes"],
        json!([{ "id": posts[1] }, { "id": posts[0] }])
    );
    assert_eq!(
        data["user"]["likedPosts"]["nodes"],
        json!([{ "id": posts[1] }, { "id": posts[0] }]),
        "the latest like first: the two earliest likes"
    );
    assert_eq!(
        data["tags"]["nodes"],
        json!([{ "name": "tag1" }, { "name": "tag2" }])
    );

    // The page before the last one of the posts: the newest, and nothing before it.
    let before = app
        .graphql_ok(
            "query($before: String) { posts(last: 2, before: $before) { nodes { id } pageInfo { hasPreviousPage hasNextPage } } \
             users(last: 1) { nodes { id } pageInfo { hasPreviousPage } } }",
            json!({ "before": data["posts"]["pageInfo"]["startCursor"] }),
            Some(&admin.token),
        )
        .await;
    assert_eq!(
        before["users"]["nodes"],
        json!([{ "id": admin.id }]),
        "newest first: the oldest user last"
    );
    assert_eq!(before["users"]["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(before["posts"]["nodes"], json!([{ "id": posts[2] }]));
    assert_eq!(before["posts"]["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(before["posts"]["pageInfo"]["hasNextPage"], true);

    for (arguments, variables) in [
        ("first: 2, last: 2", json!({})),
        (
            "last: 2, after: $c",
            json!({ "c": data["posts"]["pageInfo"]["startCursor"] }),
        ),
        (
            "first: 2, before: $c",
            json!({ "c": data["posts"]["pageInfo"]["startCursor"] }),
        ),
        ("last: 101", json!({})),
        ("last: -1", json!({})),
    ] {
        let declared = if arguments.contains("$c") {
            "($c: String)"
        } else {
            ""
        };
        let document = format!("query{declared} {{ posts({arguments}) {{ nodes {{ id }} }} }}");
        let refused = app.graphql(&document, variables, None).await;
        assert_eq!(
            error_code(&refused),
            "BAD_USER_INPUT",
            "{arguments}: {}",
            refused.text
        );
    }
}

/// The totals the lists answer (REST `pagination.total`, GraphQL `totalCount`) for every
/// published post, per category and per author, against a plain count, after each kind of
/// write: through both doors, in bulk in SQL, and by a user's deletion cascading to posts.
async fn assert_totals_match_counts(app: &TestApp, authors: &[uuid::Uuid], step: &str) {
    use diesel::sql_types::BigInt;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = app.db.connect().await;
    let mut filters: Vec<(String, String, String)> = vec![(String::new(), String::new(), String::new())];
    for category in ["technology", "lifestyle", "business", "health", "education"] {
        filters.push((
            format!("category={category}"),
            format!("category: {}", category.to_uppercase()),
            format!("AND category = '{category}'"),
        ));
    }
    for author in authors {
        filters.push((
            format!("author={author}"),
            format!("authorId: \"{author}\""),
            format!("AND author_id = '{author}'"),
        ));
    }
    for (rest, graphql, sql) in filters {
        let want = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM posts WHERE is_published {sql}"
        ))
        .get_result::<Count>(&mut conn)
        .await
        .unwrap()
        .n;
        let page = app.get(&format!("/api/posts?{rest}"), None).await;
        assert_eq!(page.status, StatusCode::OK, "{step}: {rest}: {}", page.text);
        assert_eq!(
            page.body["pagination"]["total"],
            json!(want),
            "{step}: REST total ?{rest}"
        );
        let arguments = if graphql.is_empty() {
            String::new()
        } else {
            format!("({graphql})")
        };
        let data = app
            .graphql_ok(
                &format!("{{ posts{arguments} {{ totalCount }} }}"),
                json!({}),
                None,
            )
            .await;
        assert_eq!(
            data["posts"]["totalCount"],
            json!(want),
            "{step}: totalCount of posts{arguments}"
        );
    }
}

#[tokio::test]
async fn kept_totals_match_plain_counts_after_every_kind_of_write() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let authors = [ann.id, bob.id];
    assert_totals_match_counts(&app, &authors, "empty").await;

    // Through REST: published and draft, in two categories.
    let mut ids = Vec::new();
    for (i, (category, published)) in [("health", true), ("health", false), ("business", true)]
        .iter()
        .enumerate()
    {
        let body = json!({ "title": format!("Kept total {i}"), "content": "Content long enough to pass",
                           "category": category, "isPublished": published });
        let created = create_post(&app, &ann, body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        ids.push(created.body["data"]["id"].as_str().unwrap().to_owned());
    }
    // Through GraphQL.
    let bobs = app.post(&bob, "Bob's published post", true).await;
    app.post(&bob, "Bob's draft", false).await;
    assert_totals_match_counts(&app, &authors, "created").await;

    // Published, unpublished, moved to another category; a counter update in between.
    let publish = app
        .call(
            Method::PUT,
            &format!("/api/posts/{}", ids[1]),
            Some(&ann.token),
            Some(json!({ "isPublished": true })),
        )
        .await;
    assert_eq!(publish.status, StatusCode::OK, "{}", publish.text);
    let moved = app
        .call(
            Method::PUT,
            &format!("/api/posts/{}", ids[0]),
            Some(&ann.token),
            Some(json!({ "category": "education" })),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(
        app.get(&format!("/api/posts/{}", ids[0]), None).await.status,
        StatusCode::OK
    );
    app.graphql_ok(
        "mutation($id: ID!) { updatePost(id: $id, input: { isPublished: false }) { id } }",
        json!({ "id": bobs }),
        Some(&bob.token),
    )
    .await;
    assert_totals_match_counts(&app, &authors, "updated").await;

    // Deleted through REST.
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/posts/{}", ids[2]),
            Some(&ann.token),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    assert_totals_match_counts(&app, &authors, "deleted").await;

    // In bulk in SQL (one statement each), then bob's account deleted with his posts.
    bulk_posts(&app, &authors, 40, 0).await;
    let mut conn = app.db.connect().await;
    use diesel_async::RunQueryDsl;
    diesel::sql_query("UPDATE posts SET is_published = false, category = 'lifestyle' WHERE title LIKE 'Bulk post number 1%'")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_totals_match_counts(&app, &authors, "bulk").await;
    diesel::sql_query(format!("DELETE FROM users WHERE id = '{}'", bob.id))
        .execute(&mut conn)
        .await
        .unwrap();
    assert_totals_match_counts(&app, &authors, "author deleted").await;
}

/// Deep pages of the legacy list (from offset 100 on they start from remembered marks) against
/// the same order in plain SQL, each page read twice (the first read takes the mark, the second
/// uses it), after each kind of write that moves rows within or into and out of the lists.
async fn assert_deep_pages_match_sql(app: &TestApp, ann: uuid::Uuid, step: &str) {
    let mut conn = app.db.connect().await;
    let listings = [
        ("", "", "created_at DESC, id"),
        ("sort=title", "", "title, id"),
        ("sort=-updatedAt", "", "updated_at DESC, id"),
        (
            "category=technology",
            "AND category = 'technology'",
            "created_at DESC, id",
        ),
        (
            &format!("author={ann}&sort=createdAt") as &str,
            &format!("AND author_id = '{ann}'") as &str,
            "created_at, id",
        ),
    ];
    for (query, condition, order) in listings {
        let expected = sql_ids(
            &mut conn,
            &format!("SELECT id FROM posts WHERE is_published {condition} ORDER BY {order}"),
        )
        .await;
        for (page, limit) in [(6, 20), (12, 20), (3, 70), (23, 20), (5, 100), (40, 20)] {
            let from = ((page - 1) * limit).min(expected.len());
            let want = &expected[from..(from + limit).min(expected.len())];
            for read in ["first", "again"] {
                let path = format!("/api/posts?{query}&page={page}&limit={limit}");
                let response = app.get(&path, None).await;
                assert_eq!(
                    response.status,
                    StatusCode::OK,
                    "{step}: {path}: {}",
                    response.text
                );
                let got = response.data_ids();
                assert_eq!(
                    got, want,
                    "{step}: {path} ({read} read) differs from the SQL order"
                );
            }
        }
    }
}

async fn list_version(app: &TestApp) -> i64 {
    use diesel::sql_types::BigInt;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Version {
        #[diesel(sql_type = BigInt)]
        version: i64,
    }
    let mut conn = app.db.connect().await;
    diesel::sql_query("SELECT version FROM post_list_version")
        .get_result::<Version>(&mut conn)
        .await
        .unwrap()
        .version
}

#[tokio::test]
async fn deep_pages_stay_right_after_every_kind_of_write() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    bulk_posts(&app, &[ann.id, bob.id], 450, 0).await;
    assert_deep_pages_match_sql(&app, ann.id, "seeded").await;

    // A new newest post (every page of the default order moves by one), through each door.
    let created = create_post(&app, &ann, valid_post()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    assert_deep_pages_match_sql(&app, ann.id, "created through REST").await;
    let bobs = app.post(&bob, "A title that sorts first: AAA", true).await;
    assert_deep_pages_match_sql(&app, ann.id, "created through GraphQL").await;

    // A view, a like and a comment move counters only: the marks stay (the version with them).
    let version = list_version(&app).await;
    assert_eq!(
        app.get(&format!("/api/posts/{id}"), None).await.status,
        StatusCode::OK
    );
    for (path, body) in [
        ("like", None),
        ("comments", Some(json!({ "content": "A comment" }))),
    ] {
        let response = app
            .call(
                Method::POST,
                &format!("/api/posts/{id}/{path}"),
                Some(&bob.token),
                body,
            )
            .await;
        assert!(response.status.is_success(), "{path}: {}", response.text);
    }
    assert_eq!(
        list_version(&app).await,
        version,
        "counter updates changed the list version"
    );

    // A title changed (the title order moves; updatedAt too), then unpublished, then deleted.
    let renamed = app
        .call(
            Method::PUT,
            &format!("/api/posts/{id}"),
            Some(&ann.token),
            Some(json!({ "title": "Zzz now the last title" })),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    assert_deep_pages_match_sql(&app, ann.id, "renamed").await;
    app.graphql_ok(
        "mutation($id: ID!) { updatePost(id: $id, input: { isPublished: false }) { id } }",
        json!({ "id": bobs }),
        Some(&bob.token),
    )
    .await;
    assert_deep_pages_match_sql(&app, ann.id, "unpublished").await;
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/posts/{id}"),
            Some(&ann.token),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    assert_deep_pages_match_sql(&app, ann.id, "deleted").await;

    // In bulk in SQL: older posts inserted among the rows, titles and categories changed, then
    // bob deleted with his posts.
    use diesel_async::RunQueryDsl;
    let mut conn = app.db.connect().await;
    diesel::sql_query(
        "INSERT INTO posts (id, author_id, title, content, category, tags, is_published, created_at, updated_at)
         SELECT gen_random_uuid(), author_id, title || ' again', content, category, tags, true,
                created_at - interval '30 seconds', updated_at + interval '30 seconds'
           FROM posts WHERE title LIKE 'Bulk post number 1%'",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    assert_deep_pages_match_sql(&app, ann.id, "bulk insert").await;
    diesel::sql_query(
        "UPDATE posts SET title = 'B ' || title, category = 'lifestyle' WHERE title LIKE 'Bulk post number 2%'",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    assert_deep_pages_match_sql(&app, ann.id, "bulk update").await;
    diesel::sql_query(format!("DELETE FROM users WHERE id = '{}'", bob.id))
        .execute(&mut conn)
        .await
        .unwrap();
    assert_deep_pages_match_sql(&app, ann.id, "author deleted").await;
}
