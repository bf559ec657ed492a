//! GraphQL execution: the statement counts that prove batching (no N+1), fields in query
//! order through fragments, aliases and directives, bylines answering as whole users.

use blog_gateway::db::models::Role;
use serde_json::{Value, json};

use crate::common::{TestApp, bulk_posts};

const FEED: &str = "query Feed($n: Int) { posts(first: $n) { nodes { id title category tags createdAt likeCount commentCount viewerHasLiked author { id username fullName } } pageInfo { hasNextPage endCursor } } }";

const NESTED: &str = "query Nested($n: Int) { posts(first: $n) { nodes { id title author { username } comments(first: 5) { nodes { id content author { username } } } } } }";

const DETAIL: &str = "query Detail($id: ID!) { post(id: $id) { id title content views likeCount commentCount author { id username fullName } comments(first: 20) { nodes { id content createdAt author { id username fullName } } } } }";

/// Every object of a NESTED answer lists its fields in the order the query asks for them
/// (`serde_json::Value` sorts keys, so this reads the raw text).
fn assert_fields_in_query_order(text: &str) {
    for object in text.split(r#"{"id":"#).skip(1) {
        let at = |key: &str| object.find(&format!(r#""{key}":"#));
        match (at("title"), at("content")) {
            (Some(title), _) => {
                let (author, comments) = (at("author").unwrap(), at("comments").unwrap());
                assert!(
                    title < author && author < comments,
                    "post fields out of order: {object}"
                );
            }
            (None, Some(content)) => {
                assert!(
                    content < at("author").unwrap(),
                    "comment fields out of order: {object}"
                );
            }
            (None, None) => {}
        }
    }
}

/// An answer read with its objects' keys in the order it writes them (`serde_json::Value`
/// sorts them).
struct Ordered(async_graphql::Value);

impl Ordered {
    fn get(&self, path: &[&str]) -> Ordered {
        let mut value = &self.0;
        for key in path {
            value = match value {
                async_graphql::Value::Object(object) => &object[*key],
                other => panic!("no {key} in {other}"),
            };
        }
        Ordered(value.clone())
    }

    fn keys(&self) -> Vec<String> {
        match &self.0 {
            async_graphql::Value::Object(object) => object.keys().map(|key| key.to_string()).collect(),
            other => panic!("not an object: {other}"),
        }
    }

    fn items(&self) -> Vec<Ordered> {
        match &self.0 {
            async_graphql::Value::List(items) => items.iter().cloned().map(Ordered).collect(),
            other => panic!("not a list: {other}"),
        }
    }
}

#[tokio::test]
async fn batched_documents_send_a_fixed_number_of_statements() {
    let app = TestApp::new().await;
    let mut authors = Vec::new();
    for name in ["ann", "bob", "cat", "dan"] {
        authors.push(app.user(name, Role::User).await);
    }
    let ids: Vec<uuid::Uuid> = authors.iter().map(|a| a.id).collect();
    bulk_posts(&app, &ids, 60, 8).await;

    for n in [5, 20, 50] {
        let (response, counts) = app
            .count_statements(app.graphql(FEED, json!({ "n": n }), None))
            .await;
        assert!(response.body.get("errors").is_none(), "{}", response.text);
        assert_eq!(
            response.body["data"]["posts"]["nodes"].as_array().unwrap().len(),
            n as usize
        );
        assert!(counts.queries <= 2, "feed of {n}: {counts:?}");

        let (response, counts) = app
            .count_statements(app.graphql(NESTED, json!({ "n": n }), None))
            .await;
        assert!(response.body.get("errors").is_none(), "{}", response.text);
        let first = &response.body["data"]["posts"]["nodes"][0];
        assert_eq!(first["comments"]["nodes"].as_array().unwrap().len(), 5);
        assert!(first["comments"]["nodes"][0]["author"]["username"].is_string());
        assert_fields_in_query_order(&response.text);
        // The page, its authors, and the comments with their authors.
        assert!(counts.queries <= 3, "nested of {n}: {counts:?}");

        // Read from the end: the same statements, each reading backward.
        let backward = NESTED
            .replace("first: $n", "last: $n")
            .replace("first: 5", "last: 5");
        let (response, counts) = app
            .count_statements(app.graphql(&backward, json!({ "n": n }), None))
            .await;
        assert!(response.body.get("errors").is_none(), "{}", response.text);
        let nodes = response.body["data"]["posts"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), n as usize);
        assert_eq!(nodes[0]["comments"]["nodes"].as_array().unwrap().len(), 5);
        assert!(counts.queries <= 3, "nested of the last {n}: {counts:?}");
        let authors = app
            .count_statements(app.graphql(
                "query($n: Int) { posts(last: $n) { nodes { author { posts(last: 2) { nodes { id } } } } } }",
                json!({ "n": n }),
                None,
            ))
            .await;
        assert!(authors.0.body.get("errors").is_none(), "{}", authors.0.text);
        // The page, then every author's last posts in one statement.
        assert!(
            authors.1.queries <= 3,
            "authors' last posts under the last {n}: {:?}",
            authors.1
        );
    }

    let post_id = app
        .graphql_ok("{ posts(first: 1) { nodes { id } } }", json!({}), None)
        .await["posts"]["nodes"][0]["id"]
        .clone();
    let (response, counts) = app
        .count_statements(app.graphql(DETAIL, json!({ "id": post_id }), None))
        .await;
    assert!(response.body.get("errors").is_none(), "{}", response.text);
    assert_eq!(
        response.body["data"]["post"]["comments"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        8
    );
    // The post with its author, and the comments with theirs.
    assert!(counts.queries <= 2, "detail: {counts:?}");

    // With a token: at most one more statement (the viewer lookup), even with viewerHasLiked.
    let token = Some(authors[0].token.as_str());
    let (response, counts) = app
        .count_statements(app.graphql(FEED, json!({ "n": 50 }), token))
        .await;
    assert!(response.body.get("errors").is_none(), "{}", response.text);
    assert_eq!(response.body["data"]["posts"]["nodes"][0]["viewerHasLiked"], true);
    assert!(counts.queries <= 4, "feed with a token: {counts:?}");
    let (_, counts) = app
        .count_statements(app.graphql(NESTED, json!({ "n": 50 }), token))
        .await;
    assert!(counts.queries <= 4, "nested with a token: {counts:?}");
}

/// `User.posts.totalCount` is counted for every author of a page in one statement, drafts only
/// for the author.
#[tokio::test]
async fn author_post_counts_are_batched() {
    let app = TestApp::new().await;
    let mut authors = Vec::new();
    for name in ["ann", "bob", "cat"] {
        authors.push(app.user(name, Role::User).await);
    }
    let ids: Vec<uuid::Uuid> = authors.iter().map(|a| a.id).collect();
    bulk_posts(&app, &ids, 30, 0).await;
    app.post(&authors[0], "Ann's draft", false).await;

    const COUNTS: &str = "{ posts(first: 30) { nodes { author { username posts { totalCount } } } } }";
    for token in [None, Some(authors[0].token.as_str())] {
        let (response, counts) = app.count_statements(app.graphql(COUNTS, json!({}), token)).await;
        assert!(response.body.get("errors").is_none(), "{}", response.text);
        // Posts, authors, first pages, counts. Signed in: plus the viewer's row, and the pages
        // and counts of the viewer's own posts (with drafts) in a statement of their own.
        let most = if token.is_some() { 7 } else { 4 };
        assert!(
            counts.queries <= most,
            "signed in: {}, {counts:?}",
            token.is_some()
        );
        for node in response.body["data"]["posts"]["nodes"].as_array().unwrap() {
            let author = &node["author"];
            let expected = if author["username"] == "ann" && token.is_some() {
                11
            } else {
                10
            };
            assert_eq!(author["posts"]["totalCount"], expected, "{author}");
        }
    }
}

#[tokio::test]
async fn fields_come_back_in_query_order_through_fragments_aliases_and_merges() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    bulk_posts(&app, &[ann.id], 3, 2).await;

    // Fields that wait for a loader come first, fields answered at once after them; `author`
    // is selected twice and merged in the place of its first selection.
    const QUERY: &str = "query { posts(first: 3) {
        pageInfo { hasNextPage endCursor }
        nodes {
          comments(first: 2) { nodes { author { username } id } totalCount }
          author { posts(first: 1) { totalCount nodes { id } } username }
          ...Counts
          headline: title
          __typename
          author { id }
        } } }
      fragment Counts on Post { likeCount ... on Post { id } }";
    for token in [None, Some(ann.token.as_str())] {
        let response = app.graphql(QUERY, json!({}), token).await;
        assert!(response.body.get("errors").is_none(), "{}", response.text);
        let posts = Ordered(serde_json::from_str(&response.text).unwrap()).get(&["data", "posts"]);
        assert_eq!(posts.keys(), ["pageInfo", "nodes"]);
        assert_eq!(posts.get(&["pageInfo"]).keys(), ["hasNextPage", "endCursor"]);
        let nodes = posts.get(&["nodes"]).items();
        assert_eq!(nodes.len(), 3);
        for node in nodes {
            assert_eq!(
                node.keys(),
                ["comments", "author", "likeCount", "id", "headline", "__typename"]
            );
            assert_eq!(node.get(&["comments"]).keys(), ["nodes", "totalCount"]);
            let comments = node.get(&["comments", "nodes"]).items();
            assert_eq!(comments.len(), 2);
            for comment in comments {
                assert_eq!(comment.keys(), ["author", "id"]);
            }
            assert_eq!(node.get(&["author"]).keys(), ["posts", "username", "id"]);
            assert_eq!(node.get(&["author", "posts"]).keys(), ["totalCount", "nodes"]);
            assert_eq!(node.get(&["__typename"]).0, async_graphql::Value::from("Post"));
        }
    }
}

#[tokio::test]
async fn root_fields_come_back_in_query_order() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    bulk_posts(&app, &[ann.id], 2, 1).await;

    // `me` answers at once for an anonymous caller; the posts wait for their statement.
    const QUERY: &str = "query { ...Feed viewer: me { id } popularPosts(limit: 1) { id } }
      fragment Feed on Query { posts(first: 2) { nodes { id } } }";
    let response = app.graphql(QUERY, json!({}), None).await;
    assert!(response.body.get("errors").is_none(), "{}", response.text);
    let data = Ordered(serde_json::from_str(&response.text).unwrap()).get(&["data"]);
    assert_eq!(data.keys(), ["posts", "viewer", "popularPosts"]);
}

#[tokio::test]
async fn fragments_that_spread_themselves_are_refused_not_followed() {
    let app = TestApp::new().await;
    // Self-spreading and exponentially fanning fragments reach the root-order walk before
    // validation refuses them; the server must answer, not recurse.
    let mut fan = String::from("query { ...F0 } ");
    for level in 0..40 {
        fan.push_str(&format!(
            "fragment F{level} on Query {{ ...F{next} ...F{next} }} ",
            next = level + 1
        ));
    }
    fan.push_str("fragment F40 on Query { me { id } }");
    for query in [
        "query { ...A } fragment A on Query { ...A me { id } }".to_owned(),
        "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }".to_owned(),
        fan,
    ] {
        let response = app.graphql(&query, json!({}), None).await;
        assert!(
            response.body.get("errors").is_some(),
            "{query}: {}",
            response.text
        );
    }
    // Still serving.
    app.graphql_ok("{ posts(first: 1) { nodes { id } } }", json!({}), None)
        .await;
}

#[tokio::test]
async fn fields_kept_by_include_or_skip_stay_in_query_order() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    bulk_posts(&app, &[ann.id], 2, 1).await;

    // @include/@skip stay on the fields they keep; they must not change how the rest is written.
    const QUERY: &str = "query($yes: Boolean!) { posts(first: 2) { nodes {
        comments(first: 1) { nodes { id } } author @include(if: $yes) { username }
        title @skip(if: false) id likeCount @skip(if: true) } } }";
    let response = app.graphql(QUERY, json!({ "yes": true }), None).await;
    assert!(response.body.get("errors").is_none(), "{}", response.text);
    let posts = Ordered(serde_json::from_str(&response.text).unwrap()).get(&["data", "posts"]);
    for node in posts.get(&["nodes"]).items() {
        assert_eq!(node.keys(), ["comments", "author", "title", "id"]);
    }
}

/// Lists read their authors' bylines only; any other author field still answers from the whole
/// row, with its privacy rules, wherever the author was reached and however it was selected.
#[tokio::test]
async fn authors_read_as_bylines_answer_every_field_as_whole_users() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::Admin).await;
    let post_id = app.post(&ann, "Bylines and whole rows", true).await;
    app.comment(&ann, &post_id, "Nice post").await;
    app.graphql_ok(
        "mutation { updateProfile(input: { bio: \"Writes about Rust\" }) { id } }",
        json!({}),
        Some(&ann.token),
    )
    .await;

    // The byline's own fields, then more than a byline through a fragment and an alias.
    const AUTHORS: &str = "fragment More on User { email role profile { bio } createdAt }
        query { posts(first: 5) { nodes { author { username fullName }
            comments(first: 5) { nodes { short: author { id username } long: author { username ...More } } } } } }";
    let anonymous = app.graphql_ok(AUTHORS, json!({}), None).await;
    let post = &anonymous["posts"]["nodes"][0];
    assert_eq!(
        post["author"],
        json!({ "username": "ann", "fullName": "Test ann" })
    );
    let comment = &post["comments"]["nodes"][0];
    assert_eq!(
        comment["short"],
        json!({ "id": ann.id.to_string(), "username": "ann" })
    );
    assert_eq!(comment["long"]["username"], "ann");
    assert_eq!(comment["long"]["email"], Value::Null);
    assert_eq!(comment["long"]["role"], "USER");
    assert_eq!(comment["long"]["profile"]["bio"], "Writes about Rust");
    assert!(comment["long"]["createdAt"].is_string());

    // The author herself and an admin see the email of an author read as a byline.
    let own = app.graphql_ok(AUTHORS, json!({}), Some(&ann.token)).await;
    assert_eq!(
        own["posts"]["nodes"][0]["comments"]["nodes"][0]["long"]["email"],
        "ann@example.com"
    );
    let admin = app.graphql_ok(AUTHORS, json!({}), Some(&bob.token)).await;
    assert_eq!(
        admin["posts"]["nodes"][0]["comments"]["nodes"][0]["long"]["email"],
        "ann@example.com"
    );

    // A post author reached through a list asks for more than a byline: the whole row.
    let data = app
        .graphql_ok(
            "{ posts(first: 5) { nodes { author { username profile { bio } posts(first: 5) { totalCount } } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        data["posts"]["nodes"][0]["author"],
        json!({ "username": "ann", "profile": { "bio": "Writes about Rust" }, "posts": { "totalCount": 1 } })
    );
}
