//! What runs beside a test: a live server on a socket, the binary as its own process, a Redis
//! key prefix of its own, and the external tools some tests need.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use blog_gateway::config::Config;
use uuid::Uuid;

use super::app::TestApp;

/// A server on a real socket (for WebSockets), serving the app's router until dropped.
pub struct LiveServer {
    pub address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl TestApp {
    pub async fn serve(&self) -> LiveServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = blog_gateway::app::build_app_with(self.gateway.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
        });
        LiveServer { address, task }
    }
}

impl Drop for LiveServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A Redis key prefix of one test, so that tests sharing the Redis server never see each other's
/// keys or channels; its keys are deleted when it is dropped.
pub struct RedisPrefix(pub String);

impl RedisPrefix {
    pub fn new() -> Self {
        RedisPrefix(format!("bgtest:{}:", Uuid::new_v4().simple()))
    }
}

/// Flags of an instance on Redis at `url` under `prefix`, with the response cache on, and
/// `extra`.
pub fn redis_flags<'a>(url: &'a str, prefix: &'a RedisPrefix, extra: &[&'a str]) -> Vec<&'a str> {
    let mut flags = vec![
        "--redis-url",
        url,
        "--redis-prefix",
        prefix.0.as_str(),
        "--cache-enabled",
        "true",
    ];
    flags.extend_from_slice(extra);
    flags
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

impl Drop for RedisPrefix {
    fn drop(&mut self) {
        let pattern = format!("{}*", self.0);
        let _ = std::thread::spawn(move || {
            let Ok(client) = redis::Client::open(redis_url()) else {
                return;
            };
            let Ok(mut conn) = client.get_connection() else {
                return;
            };
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(&pattern)
                .query(&mut conn)
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut conn);
            }
        })
        .join();
    }
}

/// The real binary, with none of the configuration variables of the environment leaking in.
pub fn binary() -> std::process::Command {
    binary_at(std::path::Path::new(env!("CARGO_BIN_EXE_blog-gateway")))
}

/// The binary at `path` (a release build, say), configured like [`binary`].
pub fn binary_at(path: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(path);
    let config = <Config as clap::Args>::augment_args(clap::Command::new("config"));
    for env in config.get_arguments().filter_map(|arg| arg.get_env()) {
        command.env_remove(env);
    }
    command.env_remove("HEALTHCHECK_URL").env("RUST_LOG", "warn");
    command
}

/// Whether the external tool a test needs (Node packages, Chromium, schemathesis, the release
/// binary) is installed. Under `CI=true` a missing one fails the test: `.ci/run` installs every
/// tool, so a missing one there is a broken step. Elsewhere the test is skipped and says so on
/// stderr, written past the test harness's capture so that a plain `cargo test` names it.
pub fn tool_ready(test: &str, ready: bool, install: &str) -> bool {
    if ready {
        return true;
    }
    let message = format!("SKIPPED {test}: {install}");
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{message} (CI=true runs every test)"
    );
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{message}");
    false
}

/// One HTTP/1.1 exchange with a server process on a fresh connection, with `headers` besides
/// the JSON content type: (status, body).
pub fn http(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = body.unwrap_or("");
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\nContent-Type: application/json\r\n\
         {extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    // The server may answer (413) and close before a large body is all written: a write that
    // fails then is not the test's concern, the answer (or the reset) is.
    let _ = stream.write_all(request.as_bytes());
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = match text.split_once("\r\n\r\n") {
        Some((head, rest)) if head.to_ascii_lowercase().contains("transfer-encoding: chunked") => {
            dechunk(rest)
        }
        Some((_, rest)) => rest.to_owned(),
        None => String::new(),
    };
    (status, body)
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || tail.len() < size {
            break;
        }
        out.push_str(&tail[..size]);
        rest = tail[size..].trim_start_matches("\r\n");
    }
    out
}

/// A TCP port free right now on 127.0.0.1 (for a server started next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether `program` is on the PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// The real server (`blog-gateway serve`) as a child process on a free port, killed when
/// dropped (also when a test fails). Its log goes to a file beside the other temporary files.
pub struct ServerProcess {
    child: Option<std::process::Child>,
    pub port: u16,
    log: std::path::PathBuf,
}

impl ServerProcess {
    /// Starts it over `database_url` with `env` on top of the test defaults, and waits until it
    /// listens (at most 60 s).
    pub fn start(database_url: &str, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("bg-server-{}-{port}.log", std::process::id()));
        let child = binary()
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("APP_ENV", "test")
            .env("JWT_SECRET", "test-secret-test-secret-test-secret!")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).expect("a log file"))
            .spawn()
            .expect("the server starts");
        let mut server = Self {
            child: Some(child),
            port,
            log,
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = server
                .child
                .as_mut()
                .and_then(|c| c.try_wait().expect("the server's status"));
            if let Some(status) = exited {
                panic!("the server exited with {status}: {}", server.log_text());
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the server did not listen on port {port} within 60 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        server
    }

    pub fn address(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// What it logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills it (SIGKILL: no graceful shutdown).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_file(&self.log);
    }
}
