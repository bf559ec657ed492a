//! GraphQL answers by the letter of the spec (each test failed before its fix): errored fields are
//! null and nulls propagate to the nearest nullable parent (6.4.4), `@skip`/`@include` use
//! variable defaults (6.4.1), an object whose fields were all skipped is `{}`, optional arguments
//! with defaults accept `null`, and every `DateTime` has one form. The legacy REST gaps found by
//! the same clients are here too.

use axum::http::{Method, StatusCode};
use blog_gateway::db::models::Role;
use serde_json::{Value, json};

use crate::common::{TestApp, error_code};

fn is_millis_utc(text: &str) -> bool {
    // 2024-12-29T20:08:37.421Z
    let b = text.as_bytes();
    b.len() == 24
        && text.ends_with('Z')
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22]
            .iter()
            .all(|&i| b[i].is_ascii_digit())
}

#[tokio::test]
async fn an_errored_field_is_null_and_a_null_in_a_non_null_place_reaches_the_nearest_nullable_parent() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let post = app.post(&ann, "A published post", true).await;

    // A nullable root field: null, with its error; its sibling is untouched.
    let response = app
        .graphql(
            r#"{ post(id: "nope") { id } posts(first: 1) { nodes { id } } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    assert_eq!(response.body["data"]["post"], Value::Null, "{}", response.text);
    assert!(
        response.body["data"].as_object().unwrap().contains_key("post"),
        "{}",
        response.text
    );
    assert_eq!(response.body["data"]["posts"]["nodes"][0]["id"], json!(post));
    assert_eq!(response.body["errors"][0]["path"], json!(["post"]));
    assert_eq!(error_code(&response), "BAD_USER_INPUT");

    // A non-null field (`comments: CommentConnection!`) fails: its post (nullable) becomes null.
    let response = app
        .graphql(
            r#"query($id: ID!) { post(id: $id) { id comments(after: "garbage") { nodes { id } } } }"#,
            json!({ "id": post }),
            None,
        )
        .await;
    assert_eq!(
        response.body["data"],
        json!({ "post": null }),
        "{}",
        response.text
    );
    assert_eq!(response.body["errors"][0]["path"], json!(["post", "comments"]));
    assert_eq!(error_code(&response), "BAD_USER_INPUT");

    // `excerpt: String!` in `nodes: [Post!]!` in `posts: PostConnection!`: non-null all the
    // way to the root, so `data` itself is null.
    let response = app
        .graphql(
            "{ posts(first: 1) { nodes { id excerpt(length: -1) } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(response.body["data"], Value::Null, "{}", response.text);
    assert!(
        response.body.as_object().unwrap().contains_key("data"),
        "{}",
        response.text
    );
    assert_eq!(
        response.body["errors"][0]["path"],
        json!(["posts", "nodes", 0, "excerpt"]),
        "{}",
        response.text
    );
    assert_eq!(error_code(&response), "BAD_USER_INPUT", "{}", response.text);

    // A key selected twice is one field: when a non-null sub-field fails in one of its
    // selections, the whole field is null (not the other selection's object without it).
    let response = app
        .graphql(
            r#"{ me { username } ...F } fragment F on Query { me { posts(after: "garbage") { totalCount } } }"#,
            json!({}),
            Some(&ann.token),
        )
        .await;
    assert_eq!(response.body["data"], json!({ "me": null }), "{}", response.text);
    assert_eq!(
        response.body["errors"][0]["path"],
        json!(["me", "posts"]),
        "{}",
        response.text
    );

    // Two failing nullable fields: both null, both reported.
    let response = app
        .graphql(
            r#"{ a: post(id: "x") { id } b: post(id: "y") { id } c: post(id: "00000000-0000-0000-0000-000000000000") { id } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        response.body["data"],
        json!({ "a": null, "b": null, "c": null }),
        "{}",
        response.text
    );
    assert_eq!(
        response.body["errors"].as_array().unwrap().len(),
        2,
        "{}",
        response.text
    );
}

#[tokio::test]
async fn skip_and_include_use_variable_defaults_and_an_emptied_object_is_empty() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let post = app.post(&ann, "A published post", true).await;

    let data = app
        .graphql_ok(
            "query Q($skip: Boolean = true, $show: Boolean = false) { posts(first: 1) { nodes { \
             id title @skip(if: $skip) content @include(if: $show) } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(data, json!({ "posts": { "nodes": [{ "id": post }] } }));

    // A sent variable wins over the default.
    let data = app
        .graphql_ok(
            "query Q($skip: Boolean = true) { posts(first: 1) { nodes { id title @skip(if: $skip) } } }",
            json!({ "skip": false }),
            None,
        )
        .await;
    assert_eq!(data["posts"]["nodes"][0]["title"], json!("A published post"));

    // Every field of an object skipped: `{}`, at the root too.
    let data = app
        .graphql_ok(
            "query($id: ID!) { post(id: $id) { id @skip(if: true) } }",
            json!({ "id": post }),
            None,
        )
        .await;
    assert_eq!(data, json!({ "post": {} }));
    let response = app
        .graphql(
            "{ posts(first: 1) @skip(if: true) { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(response.body["data"], json!({}), "{}", response.text);
    assert!(response.body.get("errors").is_none(), "{}", response.text);
}

#[tokio::test]
async fn optional_arguments_with_defaults_take_null_as_their_default() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    for i in 0..22 {
        app.post(&ann, &format!("Published post {i:02}"), true).await;
    }
    let sdl = blog_gateway::cli::schema_sdl();
    for argument in [
        "posts(first: Int = 20, after: String, last: Int, before: String, category: Category, authorId: ID, tag: String, search: String, sort: PostSort = NEWEST)",
        "users(first: Int = 20,",
        "popularPosts(limit: Int = 10)",
        "excerpt(length: Int = 200)",
        "comments(first: Int = 20,",
    ] {
        assert!(sdl.contains(argument), "{argument} in\n{sdl}");
    }
    // What generated clients send for an unset optional argument.
    let data = app
        .graphql_ok(
            "query($first: Int, $sort: PostSort, $limit: Int, $length: Int) { \
             posts(first: $first, sort: $sort) { nodes { title excerpt(length: $length) } } \
             popularPosts(limit: $limit) { id } }",
            json!({ "first": null, "sort": null, "limit": null, "length": null }),
            None,
        )
        .await;
    let nodes = data["posts"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 20);
    assert_eq!(
        nodes[0]["title"],
        json!("Published post 21"),
        "null sort is NEWEST"
    );
    assert_eq!(data["popularPosts"].as_array().unwrap().len(), 10);
    let data = app
        .graphql_ok(
            "{ posts(first: null, sort: null) { nodes { id } } popularPosts(limit: null) { id } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(data["posts"]["nodes"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn every_date_time_has_one_form_in_both_doors() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let post = app.post(&ann, "A published post", true).await;
    let data = app
        .graphql_ok(
            r#"query($id: ID!) { post(id: $id) { createdAt updatedAt author { createdAt } }
               __type(name: "DateTime") { specifiedByURL } }"#,
            json!({ "id": post }),
            None,
        )
        .await;
    for value in [
        &data["post"]["createdAt"],
        &data["post"]["updatedAt"],
        &data["post"]["author"]["createdAt"],
    ] {
        assert!(is_millis_utc(value.as_str().unwrap()), "{value}");
    }
    assert!(
        data["__type"]["specifiedByURL"]
            .as_str()
            .is_some_and(|url| url.starts_with("https://"))
    );
    let rest = app.get(&format!("/api/posts/{post}"), None).await;
    assert_eq!(
        rest.body["data"]["createdAt"], data["post"]["createdAt"],
        "{}",
        rest.text
    );
}

#[tokio::test]
async fn legacy_popular_items_carry_their_popularity_and_a_malformed_user_id_on_put_is_400() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let post = app.post(&ann, "A published post", true).await;
    app.comment(&ann, &post, "A first comment").await;
    app.call(
        Method::POST,
        &format!("/api/posts/{post}/like"),
        Some(&ann.token),
        None,
    )
    .await;
    let popular = app.get("/api/posts/popular", None).await;
    assert_eq!(popular.status, StatusCode::OK, "{}", popular.text);
    let item = &popular.body["data"][0];
    let expected = item["views"].as_i64().unwrap()
        + 2 * item["likes"].as_i64().unwrap()
        + 3 * item["commentCount"].as_i64().unwrap();
    assert_eq!(item["popularity"], json!(expected), "{}", popular.text);
    assert!(expected >= 5, "{}", popular.text);
    // The plain list has no popularity (the legacy list had none).
    let list = app.get("/api/posts", None).await;
    assert!(list.body["data"][0].get("popularity").is_none(), "{}", list.text);

    let response = app
        .call(
            Method::PUT,
            "/api/users/not-a-uuid",
            Some(&ann.token),
            Some(json!({ "username": "ann2" })),
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST, "{}", response.text);
    assert_eq!(response.body["message"], json!("Validation failed"));
    assert_eq!(response.body["errors"][0]["msg"], json!("Invalid user ID"));
    assert_eq!(response.body["errors"][0]["path"], json!("id"));
    assert_eq!(response.body["errors"][0]["location"], json!("params"));
}

/// Documents and variables the spec's validation (5.x) and variable coercion (6.1.2) refuse
/// before execution: a request error, no `data`, with a code.
#[tokio::test]
async fn what_validation_and_variable_coercion_refuse_is_refused_before_execution() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let post = app.post(&ann, "A published post", true).await;
    let cases = [
        // 5.8.3 All Variable Uses Defined: in a directive too.
        (
            "query { posts(first: 1) { nodes { id title @skip(if: $undefined) } } }",
            json!({}),
            "undefined",
        ),
        // 5.6.1 Values of Correct Type: an enum is a name, not a string.
        (
            r#"{ posts(sort: "NEWEST") { nodes { id } } }"#,
            json!({}),
            "NEWEST",
        ),
        (
            r#"query($s: PostSort = "OLDEST") { posts(sort: $s) { nodes { id } } }"#,
            json!({}),
            "OLDEST",
        ),
        // 5.3.2 Field Selection Merging: the selection's own field and a fragment's are one set.
        (
            "{ popularPosts { id } ...F } fragment F on Query { popularPosts(limit: 3) { title } }",
            json!({}),
            "differing arguments",
        ),
        // 5.8.5 All Variable Usages Are Allowed: String is not ID.
        (
            "query($id: String!) { post(id: $id) { id } }",
            json!({ "id": post }),
            "String",
        ),
        // 6.1.2 Coercing Variable Values: an Int is 32 bits; a required variable is sent.
        (
            "query($n: Int) { posts(first: $n) { nodes { id } } }",
            json!({ "n": 3_000_000_000_i64 }),
            "$n",
        ),
        ("query($id: ID!) { post(id: $id) { id } }", json!({}), "$id"),
        (
            "query($s: PostSort) { posts(sort: $s) { nodes { id } } }",
            json!({ "s": "SIDEWAYS" }),
            "$s",
        ),
    ];
    let mut wrong = Vec::new();
    for (document, variables, mentioned) in cases {
        let response = app.graphql(document, variables.clone(), None).await;
        let message = response.body["errors"][0]["message"].as_str().unwrap_or_default();
        if response.body.get("data").is_some()
            || !message.contains(mentioned)
            || !response.body["errors"][0]["extensions"]["code"].is_string()
        {
            wrong.push(format!("{document} {variables}: {}", response.text));
        }
    }
    assert!(
        wrong.is_empty(),
        "not refused before execution with a code and a message naming the problem:\n{}",
        wrong.join("\n")
    );
}
