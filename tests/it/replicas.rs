//! Read replicas (issue 22, part 1), for real: a private primary and a streaming replica of it
//! (`common::postgres`), the gateway over both, and each server's own statement counts
//! (`pg_stat_statements`) to show where the reads ran.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use blog_gateway::db::models::Role;
use diesel::QueryableByName;
use diesel_async::AsyncPgConnection;
use diesel_async::RunQueryDsl as _;
use serde_json::{Value, json};

use crate::common::{
    RedisPrefix, Replicated, TestApp, TestDb, create_post, redis_flags, redis_url, test_config, valid_post,
};

const DATABASE: &str = "blog";
const FEED: &str = "{ posts(first: 5) { edges { node { title author { username } } } } }";

#[derive(QueryableByName)]
struct Calls {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    calls: i64,
}

/// Statements that read the posts table on one server, since its last reset.
async fn post_reads(conn: &mut AsyncPgConnection) -> i64 {
    let row: Calls = diesel::sql_query(
        "SELECT coalesce(sum(calls), 0)::bigint AS calls FROM pg_stat_statements \
         WHERE query ILIKE '%from \"posts\"%' AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .get_result(conn)
    .await
    .unwrap();
    row.calls
}

async fn reset_statements(conn: &mut AsyncPgConnection) {
    diesel::sql_query("SELECT pg_stat_statements_reset()")
        .execute(conn)
        .await
        .unwrap();
}

/// The gateway over the pair's primary, reading from its replica.
async fn gateway(pair: &Replicated) -> TestApp {
    gateway_with(pair, &[]).await
}

async fn gateway_with(pair: &Replicated, extra: &[&str]) -> TestApp {
    pair.create_database(DATABASE).await;
    let db = TestDb::private(&pair.primary.url(DATABASE)).await;
    let replica = pair.replica.url(DATABASE);
    let mut flags = vec!["--database-read-urls", &replica, "--database-read-max-lag", "2s"];
    flags.extend_from_slice(extra);
    let config = test_config(&db.url, &flags);
    TestApp::with_config(db, config).await
}

/// The health check's entry for the replica once `wanted(status)` holds (within 15 s).
async fn replica_health(app: &TestApp, wanted: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let health = app.get("/api/health", None).await;
        let replica = health.body["replicas"][0].clone();
        if replica["status"] == wanted {
            return health.body;
        }
        assert!(
            Instant::now() < deadline,
            "the replica never became {wanted}: {}",
            health.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn post_titles(app: &TestApp, author: &str, token: Option<&str>) -> Vec<String> {
    let response = app
        .get(&format!("/api/posts?author={author}&limit=100"), token)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|post| post["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn graphql_post_title(app: &TestApp, id: &str, token: Option<&str>) -> Value {
    app.graphql_ok(
        "query($id: ID!) { post(id: $id) { title } }",
        json!({ "id": id }),
        token,
    )
    .await["post"]["title"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_reads_land_on_the_replica_and_a_writer_reads_their_write_at_once() {
    let Some(pair) = Replicated::start("replicas::anonymous_reads_land_on_the_replica") else {
        return;
    };
    let app = gateway(&pair).await;
    let health = replica_health(&app, "UP").await;
    assert_eq!(health["status"], "OK", "{health}");
    let ann = app.user("ann", Role::User).await;
    for n in 0..3 {
        app.post(&ann, &format!("Replicated post {n}"), true).await;
    }
    // The replica has replayed the posts once an anonymous read (served by it) sees them.
    let deadline = Instant::now() + Duration::from_secs(10);
    while post_titles(&app, &ann.id.to_string(), None).await.len() < 3 {
        assert!(Instant::now() < deadline, "the replica never caught up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Anonymous reads, through both doors, run on the replica: the primary reads no post.
    let mut primary = pair.primary.connect(DATABASE).await;
    let mut replica = pair.replica.connect(DATABASE).await;
    reset_statements(&mut primary).await;
    reset_statements(&mut replica).await;
    for _ in 0..10 {
        let data = app.graphql_ok(FEED, json!({}), None).await;
        assert_eq!(data["posts"]["edges"].as_array().unwrap().len(), 3);
        assert_eq!(app.get("/api/posts", None).await.status, StatusCode::OK);
    }
    let (on_primary, on_replica) = (post_reads(&mut primary).await, post_reads(&mut replica).await);
    assert_eq!(on_primary, 0, "anonymous reads reached the primary");
    assert!(
        on_replica >= 20,
        "the replica ran {on_replica} post reads, expected 20 or more"
    );

    // With the replica's replay paused, a writer still reads their write at once (from the
    // primary), through either door, while anonymous readers do not see it yet (the replica
    // serves them: it is behind by less than the 2 s bound). Ann's token must be older than
    // the bound, else her reads go to the primary whatever she wrote.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let ann = {
        let login = app.login("ann@example.com").await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.text);
        crate::common::TestUser {
            token: login.body["tokens"]["accessToken"].as_str().unwrap().to_owned(),
            ..ann
        }
    };
    // A fresh token reads from the primary: wait until this one is older than the bound.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    diesel::sql_query("SELECT pg_wal_replay_pause()")
        .execute(&mut replica)
        .await
        .unwrap();
    let written_by_graphql = app.post(&ann, "Written while the replica is paused", true).await;
    assert_eq!(
        graphql_post_title(&app, &written_by_graphql, Some(&ann.token)).await,
        "Written while the replica is paused",
        "the writer must read their own write"
    );
    let mut body = valid_post();
    body["title"] = json!("Written over REST while paused");
    let created = create_post(&app, &ann, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let own = post_titles(&app, &ann.id.to_string(), Some(&ann.token)).await;
    assert!(
        own.iter().any(|t| t == "Written over REST while paused")
            && own.iter().any(|t| t == "Written while the replica is paused"),
        "the writer reads both writes over REST: {own:?}"
    );
    let anonymous = post_titles(&app, &ann.id.to_string(), None).await;
    assert_eq!(
        anonymous.len(),
        3,
        "anonymous readers are served by the paused replica: {anonymous:?}"
    );
    assert_eq!(
        graphql_post_title(&app, &written_by_graphql, None).await,
        Value::Null
    );

    // A user who registers now reads their account at once: their token is younger than the bound.
    let bob = app.user("bob", Role::User).await;
    let me = app
        .graphql_ok("{ me { username } }", json!({}), Some(&bob.token))
        .await;
    assert_eq!(me["me"]["username"], "bob");
    let me = app.get("/api/users/me", Some(&bob.token)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);

    // Past the bound the replica is lagging: skipped, so anonymous readers see the writes.
    let health = replica_health(&app, "LAGGING").await;
    assert_eq!(health["status"], "DEGRADED", "{health}");
    // Past 2 s: lagMs is whole milliseconds, so 2000.4 ms reads 2000.
    assert!(
        health["replicas"][0]["lagMs"].as_u64().unwrap() >= 2000,
        "{health}"
    );
    assert_eq!(post_titles(&app, &ann.id.to_string(), None).await.len(), 5);

    // Replay resumes: the replica catches up and serves anonymous reads again.
    diesel::sql_query("SELECT pg_wal_replay_resume()")
        .execute(&mut replica)
        .await
        .unwrap();
    replica_health(&app, "UP").await;
    reset_statements(&mut primary).await;
    reset_statements(&mut replica).await;
    assert_eq!(post_titles(&app, &ann.id.to_string(), None).await.len(), 5);
    assert_eq!(post_reads(&mut primary).await, 0);
    assert!(post_reads(&mut replica).await > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_replica_under_load_fails_no_request() {
    let Some(pair) = Replicated::start("replicas::stopping_the_replica_under_load_fails_no_request") else {
        return;
    };
    let app = Arc::new(gateway(&pair).await);
    replica_health(&app, "UP").await;
    let ann = app.user("ann", Role::User).await;
    for n in 0..5 {
        app.post(&ann, &format!("Loaded post {n}"), true).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut replica = pair.replica.connect(DATABASE).await;
    reset_statements(&mut replica).await;
    drop(replica);

    let sent = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let until = Instant::now() + Duration::from_secs(4);
    let mut clients = Vec::new();
    for client in 0..4 {
        let (app, sent, failures) = (app.clone(), sent.clone(), failures.clone());
        clients.push(tokio::spawn(async move {
            while Instant::now() < until {
                let response = if client % 2 == 0 {
                    app.graphql(FEED, json!({}), None).await
                } else {
                    app.get("/api/posts?limit=5", None).await
                };
                sent.fetch_add(1, Ordering::Relaxed);
                let failed = response.status != StatusCode::OK
                    || response.body.get("errors").is_some()
                    || response.text.contains("\"success\":false");
                if failed {
                    failures.lock().unwrap().push(response.text.clone());
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut replica = pair.replica.connect(DATABASE).await;
    let before_stop = post_reads(&mut replica).await;
    drop(replica);
    pair.stop_replica();
    for client in clients {
        client.await.unwrap();
    }
    let failures = failures.lock().unwrap().clone();
    let sent = AtomicUsize::load(&sent, Ordering::Relaxed);
    assert!(before_stop > 0, "the replica served no read before it stopped");
    assert!(sent > 50, "only {sent} requests were sent");
    assert!(
        failures.is_empty(),
        "{} of {sent} requests failed: {:?}",
        failures.len(),
        &failures[..1]
    );

    let health = replica_health(&app, "DOWN").await;
    assert_eq!(health["status"], "DEGRADED", "{health}");
    assert!(health["replicas"][0]["error"].is_string(), "{health}");
    assert!(
        !health.to_string().contains("password"),
        "no credentials in health: {health}"
    );

    // Back up: it serves reads again once a check passes.
    pair.start_replica();
    replica_health(&app, "UP").await;
    let mut replica = pair.replica.connect(DATABASE).await;
    reset_statements(&mut replica).await;
    assert_eq!(app.get("/api/posts", None).await.status, StatusCode::OK);
    assert!(
        post_reads(&mut replica).await > 0,
        "reads went back to the replica"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_never_serves_a_fill_older_than_a_write_it_raced() {
    let Some(pair) = Replicated::start("replicas::the_cache_never_serves_a_fill_older_than_a_write_it_raced")
    else {
        return;
    };
    let url = redis_url();
    let prefix = RedisPrefix::new();
    let app = gateway_with(&pair, &redis_flags(&url, &prefix, &[])).await;
    replica_health(&app, "UP").await;
    let ann = app.user("ann", Role::User).await;
    app.post(&ann, "Cached first", true).await;
    let feed = "/api/posts?limit=50";
    cached_total(&app, feed, 1).await;

    // The replica stops replaying; a write invalidates the list. The next anonymous reads come
    // from the paused replica (it is within the lag bound): their answers may be stale, but a
    // stale one must never be served from the cache: each fill read its position on the
    // replica, below the write's, so the write's stamp refuses it.
    let mut replica = pair.replica.connect(DATABASE).await;
    diesel::sql_query("SELECT pg_wal_replay_pause()")
        .execute(&mut replica)
        .await
        .unwrap();
    app.post(&ann, "Cached second", true).await;
    for _ in 0..3 {
        let read = app.get(feed, None).await;
        assert_eq!(read.headers["x-cache"], "MISS", "{}", read.text);
        assert_eq!(
            read.body["pagination"]["total"], 1,
            "served by the paused replica: {}",
            read.text
        );
        let data = app.graphql(FEED, json!({}), None).await;
        assert_ne!(
            data.headers.get("x-cache").map(|v| v.to_str().unwrap()),
            Some("HIT"),
            "{}",
            data.text
        );
    }
    diesel::sql_query("SELECT pg_wal_replay_resume()")
        .execute(&mut replica)
        .await
        .unwrap();
    // Caught up: a fill stores the new page, and it is served until the next write.
    cached_total(&app, feed, 2).await;
}

/// Reads `feed` until it is served from the cache (once the replica has replayed everything a
/// fill needs), and checks that page's total.
async fn cached_total(app: &TestApp, feed: &str, total: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let read = app.get(feed, None).await;
        if read.headers["x-cache"] == "HIT" {
            assert_eq!(read.body["pagination"]["total"], total, "{}", read.text);
            return;
        }
        assert!(Instant::now() < deadline, "never cached: {}", read.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
