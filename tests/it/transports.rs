//! One pipeline, two transports (issue 18, items 1, 3 and 8): every limit HTTP enforces is
//! enforced over the WebSocket too (one test body, run through both), a socket's session is
//! checked for every operation and ends (4403) when its token expires or its user is
//! deactivated or demoted, and writes over the socket invalidate the response cache.

use std::time::Duration;

use blog_gateway::db::models::Role;
use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::common::{LiveServer, TestApp};
use crate::subscriptions::{connect, next_json};
use crate::ws_protocol::{close_code, send};

#[derive(Debug, Clone, Copy)]
enum Transport {
    Http,
    WebSocket,
}

impl Transport {
    /// The GraphQL answer (`{data, errors}`) of one operation.
    async fn run(self, app: &TestApp, server: &LiveServer, document: &str, token: Option<&str>) -> Value {
        match self {
            Transport::Http => app.graphql(document, json!({}), token).await.body,
            Transport::WebSocket => {
                let payload = match token {
                    Some(token) => json!({ "Authorization": format!("Bearer {token}") }),
                    None => json!({}),
                };
                let mut socket = connect(server.address, payload).await.expect("connected");
                send(
                    &mut socket,
                    json!({ "id": "1", "type": "subscribe", "payload": { "query": document } }),
                )
                .await;
                let message = next_json(&mut socket).await.expect("an answer");
                match message["type"].as_str() {
                    Some("next") => message["payload"].clone(),
                    Some("error") => json!({ "errors": message["payload"] }),
                    _ => panic!("unexpected message {message}"),
                }
            }
        }
    }
}

fn limit_of(answer: &Value) -> (String, String) {
    let error = &answer["errors"][0];
    (
        error["extensions"]["code"]
            .as_str()
            .unwrap_or("<none>")
            .to_owned(),
        error["extensions"]["limit"]
            .as_str()
            .unwrap_or("<none>")
            .to_owned(),
    )
}

#[tokio::test]
async fn every_limit_holds_over_http_and_over_the_websocket() {
    let app = TestApp::with_flags(&[
        "--rate-limit-enabled",
        "true",
        "--graphql-rate-limit-points",
        "60",
    ])
    .await;
    let server = app.serve().await;
    // 18 levels of introspection (which costs nothing, so depth is what refuses it).
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }} }}",
        "ofType { ".repeat(14),
        " }".repeat(14)
    );
    let aliases = format!(
        "{{ {} }}",
        (0..101)
            .map(|i| format!("a{i}: __typename"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut bomb = String::from("query Q { ...F0 }");
    for level in 0..23 {
        bomb.push_str(&format!(
            " fragment F{level} on Query {{ ...F{n} ...F{n} }}",
            n = level + 1
        ));
    }
    bomb.push_str(" fragment F23 on Query { __typename }");
    let cases = [
        (deep.as_str(), "depth"),
        (
            "{ posts(first: 100) { nodes { comments(first: 100) { nodes { id } } } } }",
            "cost",
        ),
        (
            "query D($n: Int = 100) { posts(first: $n) { nodes { comments(first: $n) { nodes { id } } } } }",
            "cost",
        ),
        (aliases.as_str(), "aliases"),
        (bomb.as_str(), "fields"),
    ];
    for transport in [Transport::Http, Transport::WebSocket] {
        for (document, limit) in cases {
            let answer = transport.run(&app, &server, document, None).await;
            assert_eq!(
                limit_of(&answer),
                ("GRAPHQL_VALIDATION_FAILED".to_owned(), limit.to_owned()),
                "{transport:?}, {limit}: {answer}"
            );
            assert!(answer.get("data").is_none(), "{transport:?}: {answer}");
        }
    }
    // The rate limit (60 points per window, per client): the same budget on both transports.
    let ann = app.user("ann", Role::User).await;
    let costly = "{ posts(first: 25) { nodes { id } } }";
    for transport in [Transport::Http, Transport::WebSocket] {
        let answer = transport.run(&app, &server, costly, Some(&ann.token)).await;
        assert!(answer["errors"].is_null(), "{transport:?}: {answer}");
    }
    for transport in [Transport::Http, Transport::WebSocket] {
        let answer = transport.run(&app, &server, costly, Some(&ann.token)).await;
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "RATE_LIMITED",
            "{transport:?}: {answer}"
        );
    }
}

/// A session that changes under an open socket ends it with 4403, at once.
async fn assert_ends(socket: &mut crate::subscriptions::Socket, why: &str) {
    assert_eq!(
        close_code(socket, Duration::from_secs(5)).await,
        Some(4403),
        "{why}"
    );
}

#[tokio::test]
async fn a_socket_ends_when_its_user_is_demoted_or_deactivated() {
    let app = TestApp::new().await;
    let root = app.user("root", Role::Admin).await;
    let demoted = app.user("demoted", Role::Admin).await;
    let leaving = app.user("leaving", Role::User).await;
    let server = app.serve().await;
    let signed_in =
        |user: &crate::common::TestUser| json!({ "Authorization": format!("Bearer {}", user.token) });

    // A demoted admin: her socket ends before she can promote herself back over it.
    let mut socket = connect(server.address, signed_in(&demoted)).await.unwrap();
    app.graphql_ok(
        "mutation($id: ID!) { setUserRole(userId: $id, role: USER) { role } }",
        json!({ "id": demoted.id }),
        Some(&root.token),
    )
    .await;
    assert_ends(&mut socket, "a demoted admin's socket").await;

    // A deactivated user.
    let mut socket = connect(server.address, signed_in(&leaving)).await.unwrap();
    app.graphql_ok(
        "mutation($id: ID!) { setUserActive(userId: $id, active: false) { isActive } }",
        json!({ "id": leaving.id }),
        Some(&root.token),
    )
    .await;
    assert_ends(&mut socket, "a deactivated user's socket").await;

    // An operation never runs with the rights the socket started with: a user whose role
    // changed between two operations gets an error, then the close.
    let mut socket = connect(server.address, signed_in(&root)).await.unwrap();
    let mut conn = app.db.connect().await;
    {
        use blog_gateway::db::schema::users;
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        diesel::update(users::table.find(root.id))
            .set(users::role.eq(Role::User))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    send(
        &mut socket,
        json!({ "id": "m", "type": "subscribe", "payload": { "query": "mutation($id: ID!) { setUserRole(userId: $id, role: ADMIN) { role } }", "variables": { "id": root.id } } }),
    )
    .await;
    assert_ends(&mut socket, "a socket whose user changed role between operations").await;
    let role: Role = {
        use blog_gateway::db::schema::users;
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        users::table
            .find(root.id)
            .select(users::role)
            .first(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(
        role,
        Role::User,
        "the mutation did not run with the rights the socket started with"
    );
}

#[tokio::test]
async fn a_socket_ends_when_its_token_expires() {
    let app = TestApp::with_flags(&["--jwt-expire", "2s"]).await;
    let ann = app.user("ann", Role::User).await;
    let server = app.serve().await;
    let mut socket = connect(
        server.address,
        json!({ "Authorization": format!("Bearer {}", ann.token) }),
    )
    .await
    .unwrap();
    assert_eq!(close_code(&mut socket, Duration::from_secs(6)).await, Some(4403));
}

#[tokio::test]
async fn a_write_over_the_websocket_invalidates_the_response_cache() {
    let app = TestApp::with_flags(&["--cache-enabled", "true"]).await;
    let ann = app.user("ann", Role::User).await;
    let post = app.post(&ann, "The first title", true).await;
    let server = app.serve().await;
    let read = format!(r#"{{ post(id: "{post}") {{ title }} }}"#);
    app.graphql_ok(&read, json!({}), None).await;
    let cached = app.graphql(&read, json!({}), None).await;
    assert_eq!(cached.headers["x-cache"], "HIT");
    let mut socket = connect(
        server.address,
        json!({ "Authorization": format!("Bearer {}", ann.token) }),
    )
    .await
    .unwrap();
    send(
        &mut socket,
        json!({ "id": "w", "type": "subscribe", "payload": { "query": format!(r#"mutation {{ updatePost(id: "{post}", input: {{ title: "The second title" }}) {{ title }} }}"#) } }),
    )
    .await;
    let answer = next_json(&mut socket).await.expect("an answer");
    assert_eq!(
        answer["payload"]["data"]["updatePost"]["title"], "The second title",
        "{answer}"
    );
    let fresh = app.graphql(&read, json!({}), None).await;
    assert_eq!(
        fresh.body["data"]["post"]["title"], "The second title",
        "{}",
        fresh.text
    );
}

#[tokio::test]
async fn a_websocket_message_is_bounded_like_an_http_body() {
    let app = TestApp::with_flags(&["--graphql-body-limit", "4096"]).await;
    let server = app.serve().await;
    let mut socket = connect(server.address, json!({})).await.unwrap();
    let huge = format!("{{ __typename # {} }}", "x".repeat(64 * 1024));
    let message = json!({ "id": "1", "type": "subscribe", "payload": { "query": huge } }).to_string();
    let _ = socket.send(Message::text(message)).await;
    // The server drops the connection (1009 Message Too Big, or a reset) instead of reading it.
    let closed = close_code(&mut socket, Duration::from_secs(5)).await;
    assert!(closed.is_none() || closed == Some(1009), "{closed:?}");
    assert!(next_json(&mut socket).await.is_none(), "the socket is closed");
}
