//! Scale-out on Redis: the shared response cache and its invalidation, shared rate limits,
//! subscriptions across instances, and surviving a Redis outage. Every test uses its own key
//! prefix on the shared Redis server; the outage test starts a private redis-server.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use blog_gateway::db::models::Role;
use serde_json::json;

use crate::common::{RedisPrefix, RedisServer, TestApp, redis_flags, redis_url};
use crate::subscriptions::{COMMENTS, connect, next_json, subscribe};

#[tokio::test]
async fn anonymous_reads_are_cached_and_every_write_invalidates_them() {
    let url = redis_url();
    let prefix = RedisPrefix::new();
    let app = TestApp::with_flags(&redis_flags(&url, &prefix, &[])).await;
    let ann = app.user("ann", Role::User).await;
    app.post(&ann, "First cached post", true).await;

    let first = app.get("/api/posts", None).await;
    assert_eq!(first.headers["x-cache"], "MISS");
    let second = app.get("/api/posts", None).await;
    assert_eq!(second.headers["x-cache"], "HIT");
    assert_eq!(second.body, first.body);
    let etag = second.headers["etag"].to_str().unwrap().to_owned();
    let revalidated = app
        .call_with(Method::GET, "/api/posts", None, None, &[("if-none-match", &etag)])
        .await;
    assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED);

    // A write through GraphQL: the next REST read sees it at once.
    app.post(&ann, "Second cached post", true).await;
    let after = app.get("/api/posts", None).await;
    assert_eq!(after.headers["x-cache"], "MISS");
    assert_eq!(after.body["pagination"]["total"], 2);
    let changed = app
        .call_with(Method::GET, "/api/posts", None, None, &[("if-none-match", &etag)])
        .await;
    assert_eq!(
        changed.status,
        StatusCode::OK,
        "the ETag changed with the content"
    );

    // GraphQL queries are cached too, and a REST write invalidates them.
    let query = "{ posts { totalCount } }";
    assert_eq!(
        app.graphql(query, json!({}), None).await.headers["x-cache"],
        "MISS"
    );
    assert_eq!(
        app.graphql(query, json!({}), None).await.headers["x-cache"],
        "HIT"
    );
    let id = app
        .graphql_ok("{ posts(first: 1) { nodes { id } } }", json!({}), None)
        .await["posts"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/posts/{id}"),
            Some(&ann.token),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    let fresh = app.graphql(query, json!({}), None).await;
    assert_eq!(fresh.headers["x-cache"], "MISS");
    assert_eq!(fresh.body["data"]["posts"]["totalCount"], 1);

    // Signed-in readers and the view-counting detail never touch the shared cache.
    let authed = app.get("/api/posts", Some(&ann.token)).await;
    assert!(authed.headers.get("x-cache").is_none());
    let signed_in = app.graphql(query, json!({}), Some(&ann.token)).await;
    assert!(signed_in.headers.get("x-cache").is_none());
    let detail = app
        .get(&format!("/api/posts/{}", uuid::Uuid::now_v7()), None)
        .await;
    assert!(detail.headers.get("x-cache").is_none());
    let post = app.post(&ann, "Viewed post here", true).await;
    app.get(&format!("/api/posts/{post}"), None).await;
    assert_eq!(
        app.get(&format!("/api/posts/{post}"), None).await.body["data"]["views"],
        2
    );
}

#[tokio::test]
async fn a_write_on_one_instance_is_seen_by_another_at_once() {
    let url = redis_url();
    let prefix = RedisPrefix::new();
    let a = TestApp::with_flags(&redis_flags(&url, &prefix, &[])).await;
    let b = a.another_instance(&redis_flags(&url, &prefix, &[])).await;
    let ann = a.user("ann", Role::User).await;
    let query = "{ posts { totalCount } }";
    assert_eq!(
        a.graphql(query, json!({}), None).await.body["data"]["posts"]["totalCount"],
        0
    );
    assert_eq!(
        b.graphql(query, json!({}), None).await.headers["x-cache"],
        "HIT",
        "the cache is shared"
    );
    b.post(&ann, "Written through instance B", true).await;
    let seen = a.graphql(query, json!({}), None).await;
    assert_eq!(
        seen.body["data"]["posts"]["totalCount"], 1,
        "no stale answer after a write elsewhere"
    );
}

#[tokio::test]
async fn rate_limits_are_shared_by_every_instance() {
    let url = redis_url();
    let prefix = RedisPrefix::new();
    let limits = [
        "--rate-limit-enabled",
        "true",
        "--rate-limit-max",
        "2",
        "--trust-proxy",
        "true",
    ];
    let a = TestApp::with_flags(&redis_flags(&url, &prefix, &limits)).await;
    let b = a.another_instance(&redis_flags(&url, &prefix, &limits)).await;
    let from = [("x-forwarded-for", "192.0.2.77")];
    assert_eq!(
        a.call_with(Method::GET, "/api/posts", None, None, &from)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        b.call_with(Method::GET, "/api/posts", None, None, &from)
            .await
            .status,
        StatusCode::OK
    );
    let refused = a.call_with(Method::GET, "/api/posts", None, None, &from).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers.contains_key("retry-after"));
    assert_eq!(refused.headers["ratelimit-remaining"], "0");
}

#[tokio::test]
async fn a_subscriber_on_one_instance_sees_a_comment_added_on_another() {
    let url = redis_url();
    let prefix = RedisPrefix::new();
    let a = TestApp::with_flags(&redis_flags(&url, &prefix, &[])).await;
    let b = a.another_instance(&redis_flags(&url, &prefix, &[])).await;
    let ann = a.user("ann", Role::User).await;
    let post = a.post(&ann, "Watched across instances", true).await;
    let server_b = b.serve().await;
    let mut socket = connect(server_b.address, json!({})).await.unwrap();
    subscribe(&mut socket, "x", COMMENTS, json!({ "p": post })).await;
    // Let B's relay subscribe to the channel before A publishes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    a.comment(&ann, &post, "from A").await;
    let event = next_json(&mut socket).await.expect("the event crosses instances");
    assert_eq!(event["payload"]["data"]["commentAdded"]["content"], "from A");
    // Exactly once: the publishing instance does not also deliver it locally.
    let server_a = a.serve().await;
    let mut local = connect(server_a.address, json!({})).await.unwrap();
    subscribe(&mut local, "y", COMMENTS, json!({ "p": post })).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    a.comment(&ann, &post, "second").await;
    assert_eq!(
        next_json(&mut local).await.unwrap()["payload"]["data"]["commentAdded"]["content"],
        "second"
    );
    let again = tokio::time::timeout(Duration::from_millis(700), next_json(&mut local)).await;
    assert!(
        again.is_err() || again.unwrap().is_none(),
        "no duplicate delivery"
    );
}

#[tokio::test]
async fn the_gateway_keeps_serving_while_redis_is_down() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut redis = RedisServer::start(port, &[]);
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let prefix = RedisPrefix::new();
    let app = TestApp::with_flags(&redis_flags(&url, &prefix, &["--rate-limit-enabled", "true"])).await;
    let ann = app.user("ann", Role::User).await;
    assert_eq!(app.get("/api/health", None).await.body["services"]["redis"], "OK");
    app.get("/api/posts", None).await;
    assert_eq!(app.get("/api/posts", None).await.headers["x-cache"], "HIT");

    redis.stop();
    let health = app.get("/api/health", None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "DEGRADED");
    assert_eq!(health.body["services"]["redis"], "ERROR");
    // Reads, writes, GraphQL and rate-limited routes all still answer, uncached.
    let list = app.get("/api/posts", None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_ne!(
        list.headers.get("x-cache").map(|v| v.to_str().unwrap()),
        Some("HIT")
    );
    let post = app.post(&ann, "Written while Redis is down", true).await;
    assert_eq!(app.get("/api/posts", None).await.body["pagination"]["total"], 1);
    let comment = app
        .call(
            Method::POST,
            &format!("/api/posts/{post}/comments"),
            Some(&ann.token),
            Some(json!({ "content": "still works" })),
        )
        .await;
    assert_eq!(comment.status, StatusCode::CREATED);
    let login = app.login("ann@example.com").await;
    assert_eq!(login.status, StatusCode::OK);

    let _restarted = RedisServer::start(port, &[]);
    let mut recovered = false;
    for _ in 0..50 {
        if app.get("/api/health", None).await.body["status"] == "OK" {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered, "health is OK again once Redis is back");
    // The entries cached before the outage are not served: writes during it are visible.
    let after = app.get("/api/posts", None).await;
    assert_eq!(after.body["pagination"]["total"], 1, "{}", after.text);
}
