//! graphql-transport-ws by the letter of its protocol (github.com/enisdenjo/graphql-ws,
//! PROTOCOL.md): each refusal closes the socket with the code the protocol names, never 1002 or
//! 1011 (which graphql-ws clients treat as fatal failures they cannot tell from a bug), and the
//! token is read from every place clients put it in `connection_init`.

use std::time::{Duration, Instant};

use blog_gateway::db::models::Role;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::common::TestApp;
use crate::subscriptions::{COMMENTS, Socket, connect, next_json, open, subscribe};

/// The close code the server ends the socket with (within `wait`), skipping other messages.
pub async fn close_code(socket: &mut Socket, wait: Duration) -> Option<u16> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, socket.next()).await.ok()?? {
            Ok(Message::Close(Some(frame))) => return Some(frame.code.into()),
            Ok(Message::Close(None)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

pub async fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::text(message.to_string())).await.unwrap();
}

#[tokio::test]
async fn refusals_close_with_the_codes_of_graphql_transport_ws() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let post = app.post(&ann, "A published post", true).await;
    let server = app.serve().await;
    let subscription = json!({ "query": COMMENTS, "variables": { "p": post } });

    // Subscribe before the handshake: 4401 Unauthorized.
    let mut socket = open(server.address).await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": subscription }),
    )
    .await;
    assert_eq!(close_code(&mut socket, Duration::from_secs(5)).await, Some(4401));

    // A message that is not one of the protocol's: 4400.
    let mut socket = open(server.address).await;
    send(&mut socket, json!({ "type": "connection_init" })).await;
    assert_eq!(next_json(&mut socket).await.unwrap()["type"], "connection_ack");
    send(&mut socket, json!({ "type": "no-such-type" })).await;
    assert_eq!(close_code(&mut socket, Duration::from_secs(5)).await, Some(4400));

    // A second subscribe with an id in use: 4409.
    let mut socket = connect(server.address, json!({})).await.unwrap();
    subscribe(&mut socket, "same", COMMENTS, json!({ "p": post })).await;
    send(
        &mut socket,
        json!({ "id": "same", "type": "subscribe", "payload": subscription }),
    )
    .await;
    assert_eq!(close_code(&mut socket, Duration::from_secs(5)).await, Some(4409));

    // A refused token: 4403 Forbidden.
    let mut socket = open(server.address).await;
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "Authorization": "Bearer not-a-token" } }),
    )
    .await;
    assert_eq!(close_code(&mut socket, Duration::from_secs(5)).await, Some(4403));

    // No connection_init at all: 4408 once the wait is over (3 s), not held forever.
    let mut socket = open(server.address).await;
    let started = Instant::now();
    assert_eq!(close_code(&mut socket, Duration::from_secs(10)).await, Some(4408));
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_token_is_read_wherever_clients_put_it_in_connection_init() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let server = app.serve().await;
    let bearer = format!("Bearer {}", ann.token);
    for payload in [
        json!({ "Authorization": bearer }),
        json!({ "authorization": bearer }),
        json!({ "authToken": ann.token }),
        json!({ "token": ann.token }),
        json!({ "token": bearer }),
        json!({ "headers": { "Authorization": bearer } }),
    ] {
        let mut socket = connect(server.address, payload.clone())
            .await
            .unwrap_or_else(|e| panic!("{payload}: {e}"));
        send(
            &mut socket,
            json!({ "id": "me", "type": "subscribe", "payload": { "query": "{ me { username } }" } }),
        )
        .await;
        let answer = next_json(&mut socket).await.expect("an answer");
        assert_eq!(
            answer["payload"]["data"]["me"]["username"], "ann",
            "{payload}: {answer}"
        );
    }
}
