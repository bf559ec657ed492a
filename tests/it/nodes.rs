//! Relay's Global Object Identification: `Node`, `node(id:)` and `nodes(ids:)`, with the
//! visibility rules of `post(id:)`.

use blog_gateway::db::models::Role;
use serde_json::{Value, json};

use crate::common::{TestApp, bulk_posts, error_code};

const NODES: &str = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id \
    ... on User { username } \
    ... on Post { title author { username } } \
    ... on Comment { content post { id } } } }";

const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id ... on Post { title } } }";

/// The `__typename` of each entry of `nodes` (`None` for null).
fn typenames(data: &Value) -> Vec<Option<String>> {
    data["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| node["__typename"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn nodes_of_every_type_with_drafts_hidden_from_others() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let published = app.post(&ann, "A published post", true).await;
    let comment = app.comment(&bob, &published, "Nice one").await;
    // A draft, and a comment whose post became a draft after it was written.
    let draft = app.post(&ann, "A draft post here", false).await;
    let unpublished = app.post(&ann, "Soon unpublished", true).await;
    let hidden_comment = app.comment(&bob, &unpublished, "Gone with its post").await;
    app.graphql_ok(
        "mutation($id: ID!) { updatePost(id: $id, input: { isPublished: false }) { id } }",
        json!({ "id": unpublished }),
        Some(&ann.token),
    )
    .await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let ids = json!([
        ann.id,
        published,
        comment,
        draft,
        hidden_comment,
        unknown,
        "not-a-uuid",
        published
    ]);

    let anonymous = app.graphql(NODES, json!({ "ids": ids }), None).await;
    let data = &anonymous.body["data"];
    let expected_anonymous = [
        Some("User"),
        Some("Post"),
        Some("Comment"),
        None,
        None,
        None,
        None,
        Some("Post"),
    ];
    assert_eq!(
        typenames(data),
        expected_anonymous.map(|t| t.map(str::to_owned)),
        "{}",
        anonymous.text
    );
    assert_eq!(data["nodes"][0]["id"], json!(ann.id));
    assert_eq!(data["nodes"][0]["username"], "ann");
    assert_eq!(data["nodes"][1]["author"]["username"], "ann");
    assert_eq!(data["nodes"][2]["content"], "Nice one");
    assert_eq!(data["nodes"][2]["post"]["id"], json!(published));
    let errors = anonymous.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{}", anonymous.text);
    assert_eq!(errors[0]["path"], json!(["nodes", 6]));
    assert_eq!(errors[0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(
        anonymous.body["extensions"]["cost"],
        8 + 8 * 2,
        "{}",
        anonymous.text
    );

    for (viewer, sees_drafts) in [(&bob, false), (&ann, true)] {
        let answer = app
            .graphql(NODES, json!({ "ids": ids }), Some(&viewer.token))
            .await;
        let found = typenames(&answer.body["data"]);
        let expected = if sees_drafts {
            Some("Post".to_owned())
        } else {
            None
        };
        assert_eq!(found[3], expected, "{}: {}", viewer.username, answer.text);
        let expected = if sees_drafts {
            Some("Comment".to_owned())
        } else {
            None
        };
        assert_eq!(found[4], expected, "{}: {}", viewer.username, answer.text);
    }

    let draft_for_anyone = app.graphql_ok(NODE, json!({ "id": draft }), None).await;
    assert_eq!(draft_for_anyone["node"], Value::Null);
    let draft_for_ann = app
        .graphql_ok(NODE, json!({ "id": draft }), Some(&ann.token))
        .await;
    assert_eq!(draft_for_ann["node"]["__typename"], "Post");
    assert_eq!(draft_for_ann["node"]["title"], "A draft post here");
    let user = app.graphql_ok(NODE, json!({ "id": bob.id }), None).await;
    assert_eq!(user["node"], json!({ "__typename": "User", "id": bob.id }));
    let none = app.graphql_ok(NODE, json!({ "id": unknown }), None).await;
    assert_eq!(none["node"], Value::Null);
    let malformed = app.graphql(NODE, json!({ "id": "abc" }), None).await;
    assert_eq!(error_code(&malformed), "BAD_USER_INPUT");
    assert_eq!(malformed.body["data"]["node"], Value::Null);
}

#[tokio::test]
async fn fifty_mixed_ids_cost_one_statement_per_type() {
    let app = TestApp::new().await;
    let mut authors = Vec::new();
    for name in ["ann", "bob", "cat"] {
        authors.push(app.user(name, Role::User).await);
    }
    let author_ids: Vec<uuid::Uuid> = authors.iter().map(|a| a.id).collect();
    bulk_posts(&app, &author_ids, 20, 2).await;
    let page = app
        .graphql_ok(
            "{ posts(first: 20) { nodes { id comments(first: 2) { nodes { id } } } } }",
            json!({}),
            None,
        )
        .await;
    let mut ids: Vec<String> = author_ids.iter().map(ToString::to_string).collect();
    for post in page["posts"]["nodes"].as_array().unwrap() {
        ids.push(post["id"].as_str().unwrap().to_owned());
        for comment in post["comments"]["nodes"].as_array().unwrap() {
            ids.push(comment["id"].as_str().unwrap().to_owned());
        }
    }
    ids.truncate(47);
    for _ in 0..3 {
        ids.push(uuid::Uuid::new_v4().to_string());
    }
    assert_eq!(ids.len(), 50);

    let (answer, counts) = app
        .count_statements(app.graphql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Post { title } ... on Comment { content } ... on User { username } } }",
            json!({ "ids": ids }),
            None,
        ))
        .await;
    assert!(answer.body.get("errors").is_none(), "{}", answer.text);
    let nodes = answer.body["data"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.iter().filter(|n| n.is_null()).count(), 3);
    for (node, id) in nodes.iter().zip(&ids).take(47) {
        assert_eq!(node["id"], json!(id));
    }
    assert!(counts.queries <= 3, "{counts:?}");
}

#[tokio::test]
async fn nodes_takes_at_most_a_page_of_ids_and_the_types_implement_node() {
    let app = TestApp::new().await;
    let ids: Vec<String> = (0..101).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let too_many = app
        .graphql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": ids }),
            None,
        )
        .await;
    assert_eq!(error_code(&too_many), "BAD_USER_INPUT", "{}", too_many.text);
    assert!(
        too_many.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 100 ids"),
        "{}",
        too_many.text
    );
    assert_eq!(too_many.body["data"], Value::Null);

    let types = app
        .graphql_ok(
            "{ node: __type(name: \"Node\") { kind possibleTypes { name } } \
               post: __type(name: \"Post\") { interfaces { name } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(types["node"]["kind"], "INTERFACE");
    let mut possible: Vec<&str> = types["node"]["possibleTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    possible.sort_unstable();
    assert_eq!(possible, ["Comment", "Post", "User"]);
    assert_eq!(types["post"]["interfaces"], json!([{ "name": "Node" }]));
}
