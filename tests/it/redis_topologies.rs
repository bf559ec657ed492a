//! Redis Cluster and Sentinel (issue 22, part 2), for real: the harness starts a cluster of
//! three masters with a replica each, or a master, a replica and three Sentinels, on private
//! ports (`common::redis_servers`). Every Redis feature runs on them (response cache, GCRA
//! limits, persisted queries, pub/sub across instances), keys spread over every master, and a
//! master killed mid-test fails no request with a 5xx.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use blog_gateway::db::models::Role;
use serde_json::{Value, json};

use crate::common::{RedisCluster, RedisPrefix, RedisSentinels, TestApp, keys_on, redis_flags};
use crate::subscriptions::{COMMENTS, connect, next_json, subscribe};

fn flags<'a>(url: &'a str, prefix: &'a RedisPrefix) -> Vec<&'a str> {
    redis_flags(
        url,
        prefix,
        &[
            "--rate-limit-enabled",
            "true",
            "--trust-proxy",
            "true",
            "--rate-limit-max",
            "1000",
        ],
    )
}

/// An automatically persisted query: its hash and the request that registers it.
fn persisted(query: &str) -> Value {
    let hash = blog_gateway::digest::sha256_hex(query);
    json!({ "query": query, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } })
}

/// Anonymous reads from a client address of its own (every fifth one over REST), until `stop`;
/// counts the answers and keeps every 5xx.
fn load(
    app: Arc<TestApp>,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicUsize>,
) -> tokio::task::JoinHandle<Vec<String>> {
    tokio::spawn(async move {
        let mut failures = Vec::new();
        let mut n = 0u32;
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let ip = format!("198.51.100.{}", n % 200 + 1);
            let response = if n % 5 == 0 {
                app.call_with(
                    Method::GET,
                    "/api/posts?limit=5",
                    None,
                    None,
                    &[("x-forwarded-for", &ip)],
                )
                .await
            } else {
                let query = format!(
                    "{{ posts(first: {}) {{ totalCount edges {{ node {{ id }} }} }} }}",
                    n % 7 + 1
                );
                app.call_with(
                    Method::POST,
                    "/graphql",
                    None,
                    Some(json!({ "query": query })),
                    &[("x-forwarded-for", &ip)],
                )
                .await
            };
            sent.fetch_add(1, Ordering::Relaxed);
            if response.status.is_server_error() {
                failures.push(format!("{}: {}", response.status, response.text));
            }
        }
        failures
    })
}

/// Stops the load and checks it: enough requests, none answered with a 5xx. Returns how many.
async fn finish(
    stop: &AtomicBool,
    clients: Vec<tokio::task::JoinHandle<Vec<String>>>,
    sent: &AtomicUsize,
) -> usize {
    stop.store(true, Ordering::Relaxed);
    let mut failures = Vec::new();
    for client in clients {
        failures.extend(client.await.unwrap());
    }
    let sent = sent.load(Ordering::Relaxed);
    assert!(sent > 50, "only {sent} requests during the failover");
    assert!(
        failures.is_empty(),
        "{} of {sent} requests failed: {:?}",
        failures.len(),
        &failures[..1]
    );
    sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_redis_feature_works_on_a_cluster_and_survives_a_master_failing() {
    let Some(mut cluster) = RedisCluster::start("redis_topologies::cluster") else {
        return;
    };
    let url = cluster.url();
    let prefix = RedisPrefix::new();
    let a = Arc::new(TestApp::with_flags(&flags(&url, &prefix)).await);
    let b = a.another_instance(&flags(&url, &prefix)).await;
    let ann = a.user("ann", Role::User).await;
    let post = a.post(&ann, "Clustered post", true).await;

    // Cache entries, stamps (a post each: its own tag), limit buckets and persisted queries:
    // thirty of each, from thirty clients.
    for n in 1..=30 {
        a.post(&ann, &format!("Clustered post {n}"), true).await;
        let ip = format!("203.0.113.{n}");
        let query = format!("{{ posts(first: {n}) {{ totalCount }} }}");
        for _ in 0..2 {
            let response = a
                .call_with(
                    Method::POST,
                    "/graphql",
                    None,
                    Some(persisted(&query)),
                    &[("x-forwarded-for", &ip)],
                )
                .await;
            assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        }
        let by_hash = json!({ "extensions": persisted(&query)["extensions"] });
        let response = b
            .call_with(
                Method::POST,
                "/graphql",
                None,
                Some(by_hash),
                &[("x-forwarded-for", &ip)],
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "another instance runs it by hash: {}",
            response.text
        );
        assert_eq!(
            response.headers["x-cache"], "HIT",
            "and finds the answer cached: {}",
            response.text
        );
        let rest = b
            .call_with(
                Method::GET,
                "/api/posts?limit=1",
                None,
                None,
                &[("x-forwarded-for", &ip)],
            )
            .await;
        assert_eq!(rest.status, StatusCode::OK);
        assert!(rest.headers.contains_key("ratelimit-remaining"));
    }
    // Each kind of key lives on every master: no single hash tag holds them all.
    let masters = cluster.masters();
    assert_eq!(masters.len(), 3);
    for kind in ["c", "t", "rl", "apq"] {
        for master in &masters {
            let keys = keys_on(*master, &format!("{}{kind}:*", prefix.0));
            assert!(
                !keys.is_empty(),
                "no `{kind}:` key on the master on port {master}"
            );
        }
    }
    // A limit shared by both instances: the second instance sees the first one's charges.
    let limited = flags(&url, &prefix)
        .into_iter()
        .map(|f| if f == "1000" { "3" } else { f })
        .collect::<Vec<_>>();
    let c = a.another_instance(&limited).await;
    let d = a.another_instance(&limited).await;
    let ip = [("x-forwarded-for", "192.0.2.77")];
    for app in [&c, &d, &c] {
        let ok = app.call_with(Method::GET, "/api/posts", None, None, &ip).await;
        assert_eq!(ok.status, StatusCode::OK);
    }
    let refused = d.call_with(Method::GET, "/api/posts", None, None, &ip).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the limit is shared over the cluster"
    );

    // Pub/sub across instances: a subscriber on B sees a comment written through A.
    let server_b = b.serve().await;
    let mut socket = connect(server_b.address, json!({})).await.unwrap();
    subscribe(&mut socket, "x", COMMENTS, json!({ "p": post })).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    a.comment(&ann, &post, "through the cluster").await;
    let event = next_json(&mut socket).await.expect("the event crosses instances");
    assert_eq!(
        event["payload"]["data"]["commentAdded"]["content"],
        "through the cluster"
    );

    // A master dies under load: its replica is promoted, and no request fails with a 5xx.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..3)
        .map(|_| load(a.clone(), stop.clone(), sent.clone()))
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let victim = masters[0];
    cluster.kill(victim);
    let killed_at = Instant::now();
    // Wait for the promotion while the load runs.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let masters = cluster.masters();
        if masters.len() == 3 && !masters.contains(&victim) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no replica was promoted: {}",
            cluster.describe()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    cluster.wait_until_ok();
    let promoted_after = killed_at.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let sent = finish(&stop, clients, &sent).await;
    eprintln!("cluster failover: promoted after {promoted_after:?}, {sent} requests, none failed");

    // Everything works on the new topology: a fresh answer is cached and served again.
    let query = "{ posts(first: 42) { totalCount } }";
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let response = a.graphql(query, json!({}), None).await;
        assert_eq!(response.status, StatusCode::OK);
        if response.headers["x-cache"] == "HIT" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the cache never worked again after the failover"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    a.comment(&ann, &post, "after the failover").await;
    let event = next_json(&mut socket)
        .await
        .expect("events still cross instances");
    assert_eq!(
        event["payload"]["data"]["commentAdded"]["content"],
        "after the failover"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_follows_the_master_sentinel_promotes() {
    let Some(mut sentinels) = RedisSentinels::start("redis_topologies::sentinel") else {
        return;
    };
    let url = sentinels.url();
    let prefix = RedisPrefix::new();
    let app = Arc::new(TestApp::with_flags(&flags(&url, &prefix)).await);
    let ann = app.user("ann", Role::User).await;
    app.post(&ann, "Watched by sentinels", true).await;
    let query = "{ posts(first: 3) { totalCount } }";
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = app.graphql(query, json!({}), None).await;
        if response.headers["x-cache"] == "HIT" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the cache never worked through the sentinel's master"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!keys_on(sentinels.master, &format!("{}c:*", prefix.0)).is_empty());

    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..3)
        .map(|_| load(app.clone(), stop.clone(), sent.clone()))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    sentinels.kill_master();
    let deadline = Instant::now() + Duration::from_secs(30);
    while sentinels.reported_master() != Some(sentinels.replica) {
        assert!(
            Instant::now() < deadline,
            "the sentinels never promoted the replica"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The gateway moves to the new master: a fresh answer is cached there.
    let fresh = "{ posts(first: 4) { totalCount } }";
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let response = app.graphql(fresh, json!({}), None).await;
        if response.headers["x-cache"] == "HIT" {
            break;
        }
        assert!(Instant::now() < deadline, "the gateway never used the new master");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sent = finish(&stop, clients, &sent).await;
    eprintln!("sentinel failover: {sent} requests, none failed");
    assert!(!keys_on(sentinels.replica, &format!("{}c:*", prefix.0)).is_empty());
    let health = app.get("/api/health", None).await;
    assert_eq!(health.body["services"]["redis"], "OK", "{}", health.text);
}
