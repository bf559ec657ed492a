//! Subscriptions over graphql-transport-ws at /graphql/ws, in process (no Redis).

use std::time::Duration;

use blog_gateway::db::models::Role;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::common::TestApp;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A graphql-transport-ws upgrade request for `/graphql/ws`.
fn upgrade_request(
    address: std::net::SocketAddr,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = format!("ws://{address}/graphql/ws")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    request
}

/// A socket that has not sent `connection_init`.
pub async fn open(address: std::net::SocketAddr) -> Socket {
    tokio_tungstenite::connect_async(upgrade_request(address))
        .await
        .unwrap()
        .0
}

/// Opens a graphql-transport-ws connection and completes the handshake with `payload`.
pub async fn connect(address: std::net::SocketAddr, payload: Value) -> Result<Socket, String> {
    let (mut socket, response) = tokio_tungstenite::connect_async(upgrade_request(address))
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    socket
        .send(Message::text(
            json!({ "type": "connection_init", "payload": payload }).to_string(),
        ))
        .await
        .unwrap();
    match next_json(&mut socket).await {
        Some(message) if message["type"] == "connection_ack" => Ok(socket),
        other => Err(format!("no ack: {other:?}")),
    }
}

/// The next JSON message (pings answered), or `None` when the socket closes or stays silent.
pub async fn next_json(socket: &mut Socket) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .ok()??
            .ok()?;
        match message {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(&text).ok()?;
                if value["type"] == "ping" {
                    socket
                        .send(Message::text(json!({ "type": "pong" }).to_string()))
                        .await
                        .ok()?;
                    continue;
                }
                return Some(value);
            }
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

/// Reads messages until `expected` `next` messages arrived (or the socket goes silent), each
/// checked by `check`; returns how many arrived.
pub async fn receive_next(socket: &mut Socket, expected: usize, mut check: impl FnMut(&Value)) -> usize {
    let mut arrived = 0;
    while arrived < expected {
        let Some(event) = next_json(socket).await else {
            break;
        };
        if event["type"] == "next" {
            check(&event);
            arrived += 1;
        }
    }
    arrived
}

pub async fn subscribe(socket: &mut Socket, id: &str, query: &str, variables: Value) {
    let message =
        json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } });
    socket.send(Message::text(message.to_string())).await.unwrap();
    // Give the server a moment to register the subscription before events are published.
    tokio::time::sleep(Duration::from_millis(200)).await;
}

pub const COMMENTS: &str =
    "subscription($p: ID!) { commentAdded(postId: $p) { content author { username } post { id } } }";

#[tokio::test]
async fn comments_and_publications_reach_subscribers() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let post = app.post(&ann, "A post to watch", true).await;
    let server = app.serve().await;

    let mut anonymous = connect(server.address, json!({})).await.unwrap();
    subscribe(&mut anonymous, "c", COMMENTS, json!({ "p": post })).await;
    let mut authed = connect(
        server.address,
        json!({ "Authorization": format!("Bearer {}", bob.token) }),
    )
    .await
    .unwrap();
    subscribe(
        &mut authed,
        "p",
        "subscription { postPublished(category: TECHNOLOGY) { title author { username } } }",
        json!({}),
    )
    .await;

    // A comment added through REST reaches the GraphQL subscriber.
    let response = app
        .call(
            axum::http::Method::POST,
            &format!("/api/posts/{post}/comments"),
            Some(&bob.token),
            Some(json!({ "content": "Live!" })),
        )
        .await;
    assert_eq!(response.status, axum::http::StatusCode::CREATED);
    let event = next_json(&mut anonymous).await.expect("an event");
    assert_eq!(event["type"], "next");
    assert_eq!(event["id"], "c");
    assert_eq!(
        event["payload"]["data"]["commentAdded"],
        json!({ "content": "Live!", "author": { "username": "bob" }, "post": { "id": post } })
    );

    // A draft is not announced; publishing it is.
    let draft = app.post(&ann, "Draft to publish later", false).await;
    app.graphql_ok(
        "mutation($id: ID!) { updatePost(id: $id, input: { isPublished: true }) { id } }",
        json!({ "id": draft }),
        Some(&ann.token),
    )
    .await;
    let event = next_json(&mut authed).await.expect("an event");
    assert_eq!(
        event["payload"]["data"]["postPublished"]["title"],
        "Draft to publish later"
    );
}

#[tokio::test]
async fn subscriptions_check_tokens_and_visibility() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let draft = app.post(&ann, "Private draft here", false).await;
    let server = app.serve().await;
    let refused = connect(server.address, json!({ "Authorization": "Bearer not-a-token" })).await;
    assert!(refused.is_err(), "a bad token is refused");

    let mut socket = connect(server.address, json!({})).await.unwrap();
    subscribe(&mut socket, "d", COMMENTS, json!({ "p": draft })).await;
    let answer = next_json(&mut socket).await.expect("an answer");
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{answer}"
    );
    assert_eq!(answer["payload"]["data"], Value::Null);

    let mut own = connect(
        server.address,
        json!({ "Authorization": format!("Bearer {}", ann.token) }),
    )
    .await
    .unwrap();
    subscribe(&mut own, "d", COMMENTS, json!({ "p": draft })).await;
    app.comment(&ann, &draft, "note to self").await;
    let event = next_json(&mut own)
        .await
        .expect("the author sees comments on a draft");
    assert_eq!(
        event["payload"]["data"]["commentAdded"]["content"],
        "note to self"
    );
}
