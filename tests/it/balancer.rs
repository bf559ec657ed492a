//! Three gateway processes behind a real load balancer (HAProxy), over one Redis and a Postgres
//! primary with a streaming replica (issue 22, part 4): sessions, limits, events and
//! read-your-writes cross instances, and killing an instance under load loses no acknowledged
//! write and fails no request the balancer could retry.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::common::{Balancer, RedisPrefix, Replicated, ServerProcess, TestDb, http, redis_url};
use crate::subscriptions::{COMMENTS, connect, next_json, subscribe};

const DATABASE: &str = "blog";

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or(Value::Null)
}

/// Registers a user through `at`: (id, access token, refresh token).
fn register(at: std::net::SocketAddr, name: &str) -> (String, String, String) {
    let body = json!({ "username": name, "email": format!("{name}@example.com"), "password": "password123" });
    let (status, text) = http(at, "POST", "/api/auth/register", &[], Some(&body.to_string()));
    assert_eq!(status, 201, "{text}");
    let body = json_of(&text);
    (
        body["user"]["id"].as_str().unwrap().to_owned(),
        body["tokens"]["accessToken"].as_str().unwrap().to_owned(),
        body["tokens"]["refreshToken"].as_str().unwrap().to_owned(),
    )
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_behind_haproxy_share_everything_and_survive_losing_one() {
    let Some(pair) = Replicated::start("balancer::three_instances_behind_haproxy") else {
        return;
    };
    pair.create_database(DATABASE).await;
    let db = TestDb::private(&pair.primary.url(DATABASE)).await;
    let replica = pair.replica.url(DATABASE);
    let redis = redis_url();
    let prefix = RedisPrefix::new();
    let env = [
        ("DATABASE_READ_URLS", replica.as_str()),
        ("DATABASE_READ_MAX_LAG", "2s"),
        ("REDIS_URL", redis.as_str()),
        ("REDIS_PREFIX", prefix.0.as_str()),
        ("CACHE_ENABLED", "true"),
        ("RATE_LIMIT_ENABLED", "true"),
        ("RATE_LIMIT_MAX", "30"),
        ("TRUST_PROXY", "true"),
    ];
    let mut instances: Vec<ServerProcess> = (0..3).map(|_| ServerProcess::start(&db.url, &env)).collect();
    let ports: Vec<u16> = instances.iter().map(|i| i.port).collect();
    let Some(balancer) = Balancer::start("balancer::three_instances_behind_haproxy", &ports) else {
        return;
    };
    let (one, two, three) = (
        instances[0].address(),
        instances[1].address(),
        instances[2].address(),
    );
    let lb = balancer.address();

    // A session started on one instance refreshes on another and is honoured by the third.
    let (ann, _, refresh) = register(one, "ann");
    let body = json!({ "refreshToken": refresh }).to_string();
    let (status, text) = http(two, "POST", "/api/auth/refresh", &[], Some(&body));
    assert_eq!(status, 200, "{text}");
    let token = json_of(&text)["tokens"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = format!("Bearer {token}");
    let (status, text) = http(three, "GET", "/api/users/me", &[("authorization", &bearer)], None);
    assert_eq!(status, 200, "{text}");

    // Rate limits are shared: through the balancer (round robin over the three), one client
    // gets 30 requests in all, not 30 per instance.
    let client = [("x-forwarded-for", "192.0.2.9")];
    for n in 0..30 {
        let (status, text) = http(lb, "GET", "/api/posts?limit=1", &client, None);
        assert_eq!(status, 200, "request {n}: {text}");
    }
    let (status, _) = http(lb, "GET", "/api/posts?limit=1", &client, None);
    assert_eq!(
        status, 429,
        "the 31st request of one client, whichever instance serves it"
    );

    // A subscriber on instance one receives a comment written through instance three.
    let post_body = json!({ "title": "Balanced post", "content": "Content long enough to be valid.", "category": "technology", "isPublished": true });
    let (status, text) = http(
        one,
        "POST",
        "/api/posts",
        &[("authorization", &bearer)],
        Some(&post_body.to_string()),
    );
    assert_eq!(status, 201, "{text}");
    let post = json_of(&text)["data"]["id"].as_str().unwrap().to_owned();
    let mut socket = connect(one, json!({})).await.unwrap();
    subscribe(&mut socket, "s", COMMENTS, json!({ "p": post })).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let comment = json!({ "content": "Written through instance three" }).to_string();
    let (status, text) = http(
        three,
        "POST",
        &format!("/api/posts/{post}/comments"),
        &[("authorization", &bearer)],
        Some(&comment),
    );
    assert_eq!(status, 201, "{text}");
    let event = next_json(&mut socket)
        .await
        .expect("the comment reaches instance one");
    assert_eq!(
        event["payload"]["data"]["commentAdded"]["content"],
        "Written through instance three"
    );

    // A writer never reads their own write stale through another instance: with the
    // replica's replay paused, a post written through one is listed for its author by two
    // (the mark is in Redis). The token must be older than the 2 s bound, else it reads from
    // the primary anyway.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let mut replica_conn = pair.replica.connect(DATABASE).await;
    diesel::sql_query("SELECT pg_wal_replay_pause()")
        .execute(&mut replica_conn)
        .await
        .unwrap();
    let fresh = json!({ "title": "Written while the replica is paused", "content": "Content long enough to be valid.", "category": "technology", "isPublished": true });
    let (status, text) = http(
        one,
        "POST",
        "/api/posts",
        &[("authorization", &bearer)],
        Some(&fresh.to_string()),
    );
    assert_eq!(status, 201, "{text}");
    let listed = format!("/api/posts?author={ann}&limit=50");
    let (status, text) = http(two, "GET", &listed, &[("authorization", &bearer)], None);
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("Written while the replica is paused"),
        "stale read through instance two: {text}"
    );
    diesel::sql_query("SELECT pg_wal_replay_resume()")
        .execute(&mut replica_conn)
        .await
        .unwrap();

    // Killing one instance under load: readers and writers through the balancer, each request
    // from a client address of its own (the limit is per client).
    let stop = Arc::new(AtomicBool::new(false));
    let next_client = Arc::new(AtomicU32::new(0));
    let reads = Arc::new(Mutex::new((0u32, Vec::<String>::new())));
    let writes = Arc::new(Mutex::new((
        Vec::<String>::new(),
        Vec::<(Instant, String)>::new(),
    )));
    let mut workers = Vec::new();
    for worker in 0..4 {
        let (stop, next_client, reads, writes) =
            (stop.clone(), next_client.clone(), reads.clone(), writes.clone());
        let (bearer, post) = (bearer.clone(), post.clone());
        workers.push(thread::spawn(move || {
            while !AtomicBool::load(&stop, Ordering::Relaxed) {
                let n = next_client.fetch_add(1, Ordering::Relaxed);
                let ip = format!("10.{}.{}.{}", n >> 16 & 255, n >> 8 & 255, n & 255);
                let client = [
                    ("x-forwarded-for", ip.as_str()),
                    ("authorization", bearer.as_str()),
                ];
                if worker == 0 {
                    let body = json!({ "content": format!("Load comment {n}") }).to_string();
                    let (status, text) = http(
                        lb,
                        "POST",
                        &format!("/api/posts/{post}/comments"),
                        &client,
                        Some(&body),
                    );
                    let mut writes = writes.lock().unwrap();
                    if status == 201 {
                        writes
                            .0
                            .push(json_of(&text)["data"]["id"].as_str().unwrap().to_owned());
                    } else {
                        writes.1.push((Instant::now(), format!("{status} {text}")));
                    }
                } else {
                    let path = if worker == 1 {
                        "/graphql?query=%7Bposts(first%3A3)%7BtotalCount%7D%7D".to_owned()
                    } else {
                        format!("/api/posts?limit=5&page={}", n % 3 + 1)
                    };
                    let (status, text) = http(lb, "GET", &path, &client[..1], None);
                    let mut reads = reads.lock().unwrap();
                    reads.0 += 1;
                    if status != 200 {
                        reads.1.push(format!("{status} {text}"));
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let killed = Instant::now();
    instances[1].stop();
    tokio::time::sleep(Duration::from_millis(3000)).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().unwrap();
    }
    let (read_count, read_failures) = reads.lock().unwrap().clone();
    let (acknowledged, write_failures) = writes.lock().unwrap().clone();
    eprintln!(
        "balancer: instance killed after {:?} of load; {read_count} reads ({} failed), {} writes acknowledged, {} not",
        killed.elapsed(),
        read_failures.len(),
        acknowledged.len(),
        write_failures.len()
    );
    assert!(read_count > 100, "only {read_count} reads");
    assert!(
        read_failures.is_empty(),
        "reads the balancer could retry failed: {read_failures:?}"
    );
    // A write in flight on the killed instance, or sent to it before the health checks took
    // it out (two checks 300 ms apart), may fail: it is never resent, since the instance may
    // have applied it. The balancer answers it 502 or 503; no other write fails.
    for (at, failure) in &write_failures {
        assert!(
            failure.starts_with("502") || failure.starts_with("503"),
            "{failure}"
        );
        assert!(
            at.duration_since(killed) < Duration::from_millis(1500),
            "a write failed {:?} after the kill, once the balancer knew: {failure}",
            at.duration_since(killed)
        );
    }
    // No acknowledged write is lost: every one is on the primary.
    let mut primary = pair.primary.connect(DATABASE).await;
    let stored: BTreeSet<String> = diesel::sql_query("SELECT id::text AS id FROM comments")
        .load::<Found>(&mut primary)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.id)
        .collect();
    let lost: Vec<&String> = acknowledged.iter().filter(|id| !stored.contains(*id)).collect();

    assert!(
        acknowledged.len() > 20,
        "only {} writes were acknowledged",
        acknowledged.len()
    );
    assert!(
        lost.is_empty(),
        "acknowledged writes missing from the database: {lost:?}"
    );
    drop(balancer);
}

/// docker-compose.scale.yml cannot run here (no container engine): it is checked by parsing
/// it, against the HAProxy configuration the test above runs.
#[test]
fn the_scaled_compose_file_describes_the_tested_topology() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("docker-compose.scale.yml")).unwrap();
    let compose: serde_yaml::Value = serde_yaml::from_str(&text).expect("valid YAML");
    let services = &compose["services"];
    let instances = ["api1", "api2", "api3"];
    for name in instances {
        let env = &services[name]["environment"];
        assert!(
            env["DATABASE_READ_URLS"].as_str().unwrap().contains("@replica:"),
            "{name}"
        );
        assert_eq!(
            env["REDIS_URL"], services["api1"]["environment"]["REDIS_URL"],
            "{name}"
        );
        assert_eq!(
            env["JWT_SECRET"], services["api1"]["environment"]["JWT_SECRET"],
            "one signing key: {name}"
        );
        assert_eq!(env["TRUST_PROXY"], "true", "{name}");
        assert_eq!(env["PORT"], "3000", "{name}");
    }
    let haproxy = &services["haproxy"];
    let mounts: Vec<&str> = haproxy["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        mounts.iter().any(|m| m.starts_with("./deploy/haproxy.cfg:")),
        "{mounts:?}"
    );
    let config = std::fs::read_to_string(root.join("deploy/haproxy.cfg")).unwrap();
    let servers: Vec<&str> = config
        .lines()
        .filter_map(|l| l.trim().strip_prefix("server "))
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(servers, ["api1:3000", "api2:3000", "api3:3000"]);
    let bind = config
        .lines()
        .find_map(|l| l.trim().strip_prefix("bind :"))
        .unwrap();
    let published = haproxy["ports"][0].as_str().unwrap();
    assert_eq!(
        published.rsplit(':').next(),
        Some(bind),
        "compose publishes HAProxy's port"
    );
    let replica = serde_yaml::to_string(&services["replica"]).unwrap();
    assert!(
        replica.contains("pg_basebackup -h postgres") && replica.contains(" -R "),
        "{replica}"
    );
    let primary = serde_yaml::to_string(&services["postgres"]).unwrap();
    assert!(
        primary.contains("wal_level=replica") && primary.contains("replication.sh"),
        "{primary}"
    );
    assert!(
        std::fs::read_to_string(root.join("deploy/postgres-replication.sh"))
            .unwrap()
            .contains("host replication")
    );
}
