//! The attack suite (issue 18): hostile requests against the built binary as its own process
//! (`CARGO_BIN_EXE_blog-gateway`, with rate limits raised as an attacker's test server would
//! have them), one attack at a time, each on a fresh process. Each asserts a clear refusal, the
//! process's peak RSS (VmHWM) under a fixed bound, `/api/health` answering within 500 ms all
//! through the attack, and nothing written. These bounds are safety limits, not speed targets.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{RedisPrefix, TABLES, TestDb, binary, binary_at, free_port, http, redis_url, tool_ready};

/// Peak resident memory any attack may take the process to.
const MAX_PEAK_RSS_KIB: u64 = 192 * 1024;
/// Slowest health answer accepted while an attack runs.
const MAX_HEALTH_MS: u64 = 500;

struct Gateway {
    child: Child,
    address: SocketAddr,
    db: TestDb,
    _redis: RedisPrefix,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn graphql(address: SocketAddr, body: &Value) -> (u16, Value) {
    let (status, text) = http(address, "POST", "/graphql", &[], Some(&body.to_string()));
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The release binary the attacks run against (`ATTACK_BINARY`, else the release build beside
/// the test build): safety bounds are judged on the code as deployed, not on a debug build that
/// is ten times slower. `scripts/test.sh` builds it first; a plain `cargo test` without a fresh
/// one skips the attacks and says so, and under `CI=true` that fails the run.
fn release_binary() -> Option<std::path::PathBuf> {
    let debug = std::path::PathBuf::from(env!("CARGO_BIN_EXE_blog-gateway"));
    let release = std::env::var_os("ATTACK_BINARY").map_or_else(
        || {
            let mut path = debug;
            path.pop();
            path.pop();
            path.join("release").join("blog-gateway")
        },
        std::path::PathBuf::from,
    );
    let modified = |path: &std::path::Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    // Cargo relinks the binary whenever a source changes, so a binary older than the newest
    // source was built from other code.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let newest_source = ["src", "vendor", "migrations", "Cargo.toml", "Cargo.lock"]
        .iter()
        .filter_map(|part| newest(&root.join(part)))
        .max();
    let problem = match (modified(&release), newest_source) {
        (None, _) => format!("{} is missing", release.display()),
        (Some(built), Some(source)) if built < source => {
            format!("{} is older than the code under test", release.display())
        }
        _ => return Some(release),
    };
    tool_ready(
        "attacks (the whole suite)",
        false,
        &format!("{problem}; run `cargo build --release` (scripts/test.sh does)"),
    );
    None
}

/// The newest modification time of a file, or of any file below a folder.
fn newest(path: &std::path::Path) -> Option<std::time::SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    std::fs::read_dir(path)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| newest(&entry.path()))
        .max()
}

impl Gateway {
    /// A fresh process over a database with the demo data; `None` when there is no release
    /// binary to attack (see [`release_binary`]).
    async fn start() -> Option<Gateway> {
        Self::start_with(&[]).await
    }

    /// [`Gateway::start`] with more environment variables.
    async fn start_with(env: &[(&str, &str)]) -> Option<Gateway> {
        let path = release_binary()?;
        let db = TestDb::new().await;
        let seeded = binary()
            .arg("seed")
            .args(["--database-url", &db.url])
            .output()
            .unwrap();
        assert!(
            seeded.status.success(),
            "{}",
            String::from_utf8_lossy(&seeded.stderr)
        );
        let redis = RedisPrefix::new();
        let port = free_port();
        let child = binary_at(&path)
            .env("DATABASE_URL", &db.url)
            .env("REDIS_URL", redis_url())
            .env("REDIS_PREFIX", &redis.0)
            .env("PORT", port.to_string())
            .env("RATE_LIMIT_ENABLED", "false")
            .env("JWT_SECRET", "attack-suite-secret-attack-suite-secret")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        while TcpStream::connect(address).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the gateway did not start"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        Some(Gateway {
            child,
            address,
            db,
            _redis: redis,
        })
    }

    fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    async fn rows(&self) -> Vec<i64> {
        use diesel::QueryableByName;
        use diesel_async::RunQueryDsl;
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.db.connect().await;
        let mut counts = Vec::new();
        for table in TABLES {
            let sql = format!("SELECT count(*) AS n FROM {table}");
            counts.push(
                diesel::sql_query(sql)
                    .get_result::<Count>(&mut conn)
                    .await
                    .map_or(-1, |c| c.n),
            );
        }
        counts
    }

    /// Runs `attack` while health is polled; checks the bounds after it.
    async fn survive<F, T>(&self, name: &str, attack: F) -> T
    where
        F: std::future::Future<Output = T>,
    {
        let before = self.rows().await;
        let done = Arc::new(AtomicBool::new(false));
        let slowest = Arc::new(AtomicU64::new(0));
        let prober = {
            let (done, slowest, address) = (done.clone(), slowest.clone(), self.address);
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let (status, _) = http(address, "GET", "/api/health", &[], None);
                    assert_eq!(status, 200, "health answers");
                    slowest.fetch_max(started.elapsed().as_millis() as u64, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        };
        let result = attack.await;
        done.store(true, Ordering::Relaxed);
        prober.join().expect("health answered 200 throughout");
        let slowest = slowest.load(Ordering::Relaxed);
        assert!(
            slowest <= MAX_HEALTH_MS,
            "{name}: health took {slowest} ms during the attack"
        );
        let peak = self.peak_rss_kib();
        assert!(peak <= MAX_PEAK_RSS_KIB, "{name}: peak RSS {peak} KiB");
        assert_eq!(self.rows().await, before, "{name}: nothing written");
        eprintln!(
            "attack {name}: refused; peak RSS {} MiB, slowest health {slowest} ms",
            peak / 1024
        );
        result
    }
}

fn code(answer: &Value) -> &str {
    answer["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}

/// Runs `count` copies of one request at once (blocking sockets, one thread each).
async fn flood(address: SocketAddr, body: Value, count: usize) -> Vec<(u16, Value)> {
    let threads: Vec<_> = (0..count)
        .map(|_| {
            let body = body.clone();
            std::thread::spawn(move || graphql(address, &body))
        })
        .collect();
    tokio::task::spawn_blocking(move || threads.into_iter().map(|t| t.join().unwrap()).collect())
        .await
        .unwrap()
}

#[tokio::test]
async fn fragment_bombs_are_refused_in_bounded_memory() {
    let Some(gateway) = Gateway::start().await else {
        return;
    };
    for width in [2, 3] {
        let spreads = |n: usize| {
            (0..width)
                .map(|_| format!("...F{n}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut document = String::from("query Q { ...F0 }");
        for level in 0..23 {
            document.push_str(&format!(
                " fragment F{level} on Query {{ {} }}",
                spreads(level + 1)
            ));
        }
        document.push_str(" fragment F23 on Query { __typename }");
        let answers = gateway
            .survive(
                "fragment bomb",
                flood(gateway.address, json!({ "query": document }), 4),
            )
            .await;
        for (_, answer) in answers {
            assert_eq!(answer["errors"][0]["extensions"]["limit"], "fields", "{answer}");
        }
    }
}

#[tokio::test]
async fn alias_and_directive_floods_and_deep_nesting_are_refused() {
    let Some(gateway) = Gateway::start().await else {
        return;
    };
    let aliases = (0..1_500)
        .map(|i| format!("a{i}: __typename @include(if: true) @skip(if: false)"))
        .collect::<Vec<_>>()
        .join(" ");
    let deep = format!(
        "{{ {}id{} }}",
        "posts { nodes { author { ".repeat(6),
        " } } }".repeat(6)
    );
    let through_default = "query D($n: Int = 100, $p: ID!) { post(id: $p) { comments(first: $n) { nodes { post { \
        comments(first: $n) { nodes { post { comments(first: $n) { nodes { id } } } } } } } } } }";
    let introspection = (0..100)
        .map(|i| format!("i{i}: __schema {{ types {{ fields {{ name }} }} }}"))
        .collect::<Vec<_>>()
        .join(" ");
    for (name, body, limit) in [
        (
            "aliases",
            json!({ "query": format!("{{ {aliases} }}") }),
            "aliases",
        ),
        ("depth", json!({ "query": deep }), "depth"),
        (
            "cost through a variable default",
            json!({ "query": through_default, "variables": { "p": "x" } }),
            "cost",
        ),
        (
            "introspection",
            json!({ "query": format!("{{ {introspection} }}") }),
            "cost",
        ),
    ] {
        let answers = gateway.survive(name, flood(gateway.address, body, 4)).await;
        for (_, answer) in answers {
            assert_eq!(
                answer["errors"][0]["extensions"]["limit"], limit,
                "{name}: {answer}"
            );
        }
    }
}

#[tokio::test]
async fn oversized_bodies_and_variables_are_refused() {
    let Some(gateway) = Gateway::start().await else {
        return;
    };
    let huge = "x".repeat(2 * 1024 * 1024);
    let answers = gateway
        .survive(
            "oversized body",
            flood(
                gateway.address,
                json!({ "query": "{ __typename }", "variables": { "s": huge } }),
                4,
            ),
        )
        .await;
    for (status, _) in answers {
        // 413, or a reset when the server closed with the rest of the body unread (the kernel
        // then drops the answer): refused either way, never read whole.
        assert!(status == 413 || status == 0, "{status}");
    }
    let large = "x".repeat(900 * 1024);
    let answers = gateway
        .survive(
            "oversized variable",
            flood(
                gateway.address,
                json!({ "query": "query($s: String) { posts(search: $s) { nodes { id } } }", "variables": { "s": large } }),
                4,
            ),
        )
        .await;
    for (status, answer) in answers {
        assert!(status < 500, "{status}");
        assert_eq!(code(&answer), "BAD_USER_INPUT", "{answer}");
    }
}

#[tokio::test]
async fn an_apq_flood_stores_nothing() {
    let Some(gateway) = Gateway::start().await else {
        return;
    };
    let address = gateway.address;
    let hashes = gateway
        .survive("APQ flood", async move {
            tokio::task::spawn_blocking(move || {
                (0..200)
                    .map(|i| {
                        let document = format!("{{ junk{i} {} ", "y".repeat(30 * 1024));
                        let hash = blog_gateway::digest::sha256_hex(&document);
                        let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
                        let (_, answer) =
                            graphql(address, &json!({ "query": document, "extensions": extensions }));
                        assert!(answer.get("data").is_none(), "{answer}");
                        hash
                    })
                    .collect::<Vec<_>>()
            })
            .await
            .unwrap()
        })
        .await;
    for hash in hashes.iter().take(5) {
        let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
        let (_, answer) = graphql(address, &json!({ "extensions": extensions }));
        assert_eq!(code(&answer), "PERSISTED_QUERY_NOT_FOUND", "{answer}");
    }
}

#[tokio::test]
async fn a_subscription_flood_is_capped() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let Some(gateway) = Gateway::start().await else {
        return;
    };
    let (_, posts) = graphql(
        gateway.address,
        &json!({ "query": "{ posts(first: 1) { nodes { id } } }" }),
    );
    let post = posts["data"]["posts"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let address = gateway.address;
    let open = |address: SocketAddr| async move {
        let mut socket = crate::subscriptions::open(address).await;
        socket
            .send(Message::text(json!({ "type": "connection_init" }).to_string()))
            .await
            .unwrap();
        let _ack = socket.next().await;
        socket
    };
    let subscription = "subscription($p: ID!) { commentAdded(postId: $p) { id content post { title } } }";
    let refused = gateway
        .survive("subscription flood", async {
            let mut refused = 0;
            let mut sockets = Vec::new();
            for _ in 0..8 {
                let mut socket = open(address).await;
                for i in 0..300 {
                    let message = json!({ "id": format!("s{i}"), "type": "subscribe",
                        "payload": { "query": subscription, "variables": { "p": post } } });
                    socket.send(Message::text(message.to_string())).await.unwrap();
                }
                sockets.push(socket);
            }
            for socket in &mut sockets {
                while let Ok(Some(Ok(Message::Text(text)))) =
                    tokio::time::timeout(Duration::from_millis(300), socket.next()).await
                {
                    if text.contains("RATE_LIMITED") {
                        refused += 1;
                    }
                }
            }
            refused
        })
        .await;
    // 2,400 asked; at most 200 per client (one IP here) are open.
    assert!(refused >= 2_400 - 200, "{refused} refused");
}

/// The lists issue 20 added (`nodes(ids:)`, `last`/`before`, `tags`, `likedPosts`) are bounded
/// and costed like the others, and a connection's items cost the same inside a fragment.
#[tokio::test]
async fn the_new_lists_are_bounded_and_costed() {
    let Some(gateway) = Gateway::start().await else {
        return;
    };
    let ids: Vec<String> = (0..100).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let too_many: Vec<String> = (0..101).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let backward = format!(
        "{{ posts(last: 100) {{ nodes {{ {}id{} }} }} }}",
        "comments(last: 100) { nodes { post { ".repeat(2),
        " } } }".repeat(2)
    );
    for (name, body, limit) in [
        (
            "many nodes, each with a page",
            json!({ "query": "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Post { comments(last: 100) { nodes { id } } } } }",
                    "variables": { "ids": ids } }),
            "cost",
        ),
        ("backward pages", json!({ "query": backward }), "cost"),
        (
            "a connection's items inside its fragments",
            json!({ "query": "{ posts(first: 100) { ...P } } fragment P on PostConnection { nodes { comments(last: 100) { ...C } } } \
                               fragment C on CommentConnection { edges { node { post { tags(last: 100) { nodes { name } } } } } }" }),
            "cost",
        ),
    ] {
        let answers = gateway.survive(name, flood(gateway.address, body, 4)).await;
        for (_, answer) in answers {
            assert_eq!(
                answer["errors"][0]["extensions"]["limit"], limit,
                "{name}: {answer}"
            );
        }
    }
    for (name, body) in [
        (
            "101 ids",
            json!({ "query": "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", "variables": { "ids": too_many } }),
        ),
        (
            "a page past 100",
            json!({ "query": "{ tags(last: 101) { nodes { name } } }" }),
        ),
        (
            "both directions",
            json!({ "query": "{ posts(first: 5, last: 5) { nodes { id } } }" }),
        ),
        (
            "a search past 256 characters",
            json!({ "query": "query($s: String) { tags(search: $s) { nodes { name } } }", "variables": { "s": "x".repeat(300) } }),
        ),
    ] {
        let answers = gateway.survive(name, flood(gateway.address, body, 4)).await;
        for (_, answer) in answers {
            assert_eq!(code(&answer), "BAD_USER_INPUT", "{name}: {answer}");
        }
    }
}

/// Item 11: no header-read timeout: a client trickling its headers held a socket for 100 s.
#[tokio::test]
async fn clients_trickling_headers_are_disconnected() {
    let Some(gateway) = Gateway::start_with(&[("HEADER_READ_TIMEOUT_SECS", "2")]).await else {
        return;
    };
    let address = gateway.address;
    let held = gateway
        .survive("slow headers", async move {
            tokio::task::spawn_blocking(move || {
                let sockets: Vec<_> = (0..50)
                    .map(|_| {
                        let mut socket = TcpStream::connect(address).unwrap();
                        socket
                            .write_all(b"GET /api/health HTTP/1.1\r\nHost: gateway\r\n")
                            .unwrap();
                        socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
                        socket
                    })
                    .collect();
                let started = Instant::now();
                let mut open: Vec<_> = sockets;
                // One more header byte every 200 ms, for 8 s at most.
                while !open.is_empty() && started.elapsed() < Duration::from_secs(8) {
                    open.retain_mut(|socket| {
                        let mut buffer = [0_u8; 256];
                        match socket.read(&mut buffer) {
                            // Closed (or answered 408 and closed): let go.
                            Ok(_) => false,
                            Err(error)
                                if error.kind() == std::io::ErrorKind::WouldBlock
                                    || error.kind() == std::io::ErrorKind::TimedOut =>
                            {
                                socket.write_all(b"X").is_ok()
                            }
                            Err(_) => false,
                        }
                    });
                    std::thread::sleep(Duration::from_millis(100));
                }
                open.len()
            })
            .await
            .unwrap()
        })
        .await;
    assert_eq!(held, 0, "every trickling client was disconnected within 8 s");
}
