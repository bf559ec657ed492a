//! Apollo Federation v2 (FEDERATION=true): `_service { sdl }` and `_entities` through the real
//! router, entity resolution batched per type through the loaders, the same visibility as
//! `node`, the representations limit and cost, and a public schema without any of it when off.
//! The composition with a second subgraph and a real router is in the client suite
//! (tests/clients/federation.mjs, run by clients.rs).

use blog_gateway::db::models::Role;
use serde_json::{Value, json};

use crate::common::{TestApp, error_code};

const FEDERATION: &[&str] = &["--federation", "true"];

const ENTITIES: &str = "query($representations: [_Any!]!) { _entities(representations: $representations) {
    __typename
    ... on User { id username }
    ... on Post { id title }
    ... on Comment { id content }
} }";

fn representation(typename: &str, id: &str) -> Value {
    json!({ "__typename": typename, "id": id })
}

#[tokio::test]
async fn a_hundred_mixed_representations_take_one_statement_per_type() {
    let app = TestApp::with_flags(FEDERATION).await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let mut posts = Vec::new();
    for i in 0..30 {
        posts.push(app.post(&ann, &format!("Entity post {i}"), true).await);
    }
    let draft = app.post(&ann, "Ann's draft entity", false).await;
    let mut comments = Vec::new();
    for i in 0..30 {
        comments.push(
            app.comment(&bob, &posts[i % 3], &format!("Entity comment {i}"))
                .await,
        );
    }
    let draft_comment = app.comment(&ann, &draft, "A comment on a draft").await;
    let mut representations = Vec::new();
    for i in 0..32 {
        let user = if i % 2 == 0 { &ann } else { &bob };
        representations.push(representation("User", &user.id.to_string()));
        representations.push(representation("Post", &posts[i % posts.len()]));
        representations.push(representation("Comment", &comments[i % comments.len()]));
    }
    representations.push(representation("Post", &draft));
    representations.push(representation("Comment", &draft_comment));
    representations.push(representation("Post", &uuid::Uuid::now_v7().to_string()));
    representations.push(representation("User", &uuid::Uuid::now_v7().to_string()));
    assert_eq!(representations.len(), 100);

    let (answer, counts) = app
        .count_statements(app.graphql(ENTITIES, json!({ "representations": representations }), None))
        .await;
    assert!(answer.body.get("errors").is_none(), "{}", answer.text);
    let entities = answer.body["data"]["_entities"].as_array().unwrap();
    assert_eq!(entities.len(), 100);
    for (entity, wanted) in entities.iter().zip(&representations).take(96) {
        assert_eq!(entity["__typename"], wanted["__typename"], "{entity}");
        assert_eq!(entity["id"], wanted["id"], "{entity}");
    }
    // An anonymous caller gets null for a draft, its comment, and what does not exist.
    assert!(entities[96..].iter().all(Value::is_null), "{:?}", &entities[96..]);
    assert!(counts.queries <= 3, "one statement per type: {counts:?}");
    // Costed by their number: an object each (their fields here are scalars).
    assert_eq!(answer.body["extensions"]["cost"], json!(100), "{}", answer.text);

    // The router forwards the caller's Authorization: the author sees the draft and its comment.
    let mine = app
        .graphql_ok(
            ENTITIES,
            json!({ "representations": [representation("Post", &draft), representation("Comment", &draft_comment)] }),
            Some(&ann.token),
        )
        .await;
    assert_eq!(mine["_entities"][0]["title"], json!("Ann's draft entity"));
    assert_eq!(mine["_entities"][1]["content"], json!("A comment on a draft"));
    let theirs = app
        .graphql_ok(
            ENTITIES,
            json!({ "representations": [representation("Post", &draft)] }),
            Some(&bob.token),
        )
        .await;
    assert_eq!(theirs["_entities"], json!([null]));
}

#[tokio::test]
async fn more_than_a_hundred_representations_are_refused_before_running() {
    let app = TestApp::with_flags(FEDERATION).await;
    let representations: Vec<Value> = (0..101)
        .map(|_| representation("User", &uuid::Uuid::now_v7().to_string()))
        .collect();
    let (answer, counts) = app
        .count_statements(app.graphql(ENTITIES, json!({ "representations": representations }), None))
        .await;
    assert_eq!(
        error_code(&answer),
        "GRAPHQL_VALIDATION_FAILED",
        "{}",
        answer.text
    );
    let message = answer.body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("101 representations") && message.contains("100"),
        "{message}"
    );
    assert_eq!(
        answer.body["errors"][0]["extensions"]["limit"],
        json!("representations")
    );
    assert!(answer.body.get("data").is_none(), "{}", answer.text);
    assert_eq!(counts.queries, 0, "{counts:?}");
}

#[tokio::test]
async fn bad_representations_get_clear_errors() {
    let app = TestApp::with_flags(FEDERATION).await;
    let ann = app.user("ann", Role::User).await;
    let answer = app
        .graphql(
            ENTITIES,
            json!({ "representations": [representation("Post", "not-a-uuid")] }),
            None,
        )
        .await;
    let message = answer.body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("Invalid id"), "{}", answer.text);
    let answer = app
        .graphql(
            ENTITIES,
            json!({ "representations": [{ "id": ann.id.to_string() }] }),
            None,
        )
        .await;
    let message = answer.body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("__typename"), "{}", answer.text);
}

#[tokio::test]
async fn the_subgraph_sdl_declares_the_entities_for_composition() {
    let app = TestApp::with_flags(FEDERATION).await;
    let data = app.graphql_ok("{ _service { sdl } }", json!({}), None).await;
    let sdl = data["_service"]["sdl"].as_str().unwrap();
    assert!(
        sdl.contains("@link(") && sdl.contains("specs.apollo.dev/federation/v2"),
        "{sdl}"
    );
    for entity in [
        "type User implements Node @key(fields: \"id\")",
        "type Post implements Node @key(fields: \"id\")",
        "type Comment implements Node @key(fields: \"id\")",
    ] {
        assert!(sdl.contains(entity), "{entity} missing from\n{sdl}");
    }
}

#[tokio::test]
async fn the_subgraph_sdl_is_introspection_and_closed_with_it() {
    let app = TestApp::with_flags(&["--federation", "true", "--graphql-introspection", "false"]).await;
    let answer = app.graphql("{ _service { sdl } }", json!({}), None).await;
    assert_eq!(
        error_code(&answer),
        "GRAPHQL_VALIDATION_FAILED",
        "{}",
        answer.text
    );
    assert_eq!(
        answer.body["errors"][0]["extensions"]["limit"],
        json!("introspection"),
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn without_federation_the_schema_has_none_of_it() {
    let app = TestApp::new().await;
    for query in [
        "{ _service { sdl } }",
        "{ _entities(representations: []) { __typename } }",
    ] {
        let answer = app.graphql(query, json!({}), None).await;
        assert_eq!(
            error_code(&answer),
            "GRAPHQL_VALIDATION_FAILED",
            "{query}: {}",
            answer.text
        );
    }
    let data = app
        .graphql_ok("{ __schema { types { name } } }", json!({}), None)
        .await;
    let names: Vec<&str> = data["__schema"]["types"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for federation_type in ["_Any", "_Entity", "_Service"] {
        assert!(
            !names.contains(&federation_type),
            "{federation_type} is in the public schema"
        );
    }
    let sdl = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert!(
        !sdl.contains("@key") && !sdl.contains("_service"),
        "schema.graphql carries federation"
    );
}
