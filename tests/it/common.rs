//! Test harness: a database per test cloned from a migrated template, and the real router.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use blog_gateway::config::Config;
use blog_gateway::db::models::Role;
use blog_gateway::db::pool::{quote_ident, run_migrations};
use blog_gateway::db::statements::StatementCounts;
use blog_gateway::graphql::runtime::Gateway;
use blog_gateway::state::AppState;
use clap::Parser;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use tower::ServiceExt;
use uuid::Uuid;

/// The password of every user the helpers create.
pub const PASSWORD: &str = "password123";

/// The server the tests use; each test gets its own database on it.
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

pub fn database_url(name: &str) -> String {
    let mut url = url::Url::parse(&server_url()).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

async fn admin_connection() -> AsyncPgConnection {
    AsyncPgConnection::establish(&server_url())
        .await
        .expect("the test Postgres server is reachable")
}

/// The template's name changes with the migrations, so a stale template is never reused.
fn template_name() -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut entries: Vec<_> = walk(&dir);
    entries.sort();
    for path in entries {
        hasher.update(path.to_string_lossy().as_bytes());
        hasher.update(std::fs::read(&path).unwrap_or_default());
    }
    let digest = hasher.finalize();
    format!(
        "bg_tmpl_{}",
        digest
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path))
        } else {
            out.push(path)
        }
    }
    out
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// Creates (once per run) the migrated template database.
async fn template() -> &'static str {
    TEMPLATE
        .get_or_init(|| async {
            let name = template_name();
            let mut conn = admin_connection().await;
            diesel::sql_query("SELECT pg_advisory_lock(4242)")
                .execute(&mut conn)
                .await
                .unwrap();
            let ready: Option<bool> = diesel::sql_query(format!(
                "SELECT datistemplate AS ready FROM pg_database WHERE datname = '{name}'"
            ))
            .get_result::<Ready>(&mut conn)
            .await
            .optional()
            .unwrap()
            .map(|r| r.ready);
            if ready != Some(true) {
                diesel::sql_query(format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    quote_ident(&name)
                ))
                .execute(&mut conn)
                .await
                .unwrap();
                diesel::sql_query(format!("CREATE DATABASE {}", quote_ident(&name)))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                run_migrations(&database_url(&name))
                    .await
                    .expect("migrations apply to the template");
                diesel::sql_query(format!(
                    "ALTER DATABASE {} WITH IS_TEMPLATE true",
                    quote_ident(&name)
                ))
                .execute(&mut conn)
                .await
                .unwrap();
            }
            diesel::sql_query("SELECT pg_advisory_unlock(4242)")
                .execute(&mut conn)
                .await
                .unwrap();
            name
        })
        .await
}

#[derive(QueryableByName)]
struct Ready {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    ready: bool,
}

/// A database of one test, dropped when the test ends (pass or fail).
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// A fresh, migrated database.
    pub async fn new() -> Self {
        let template = template().await;
        let name = format!("bg_t_{}", Uuid::new_v4().simple());
        let mut conn = admin_connection().await;
        diesel::sql_query(format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quote_ident(&name),
            quote_ident(template)
        ))
        .execute(&mut conn)
        .await
        .expect("create test database");
        Self {
            url: database_url(&name),
            name,
        }
    }

    /// An empty database with no migrations (for the migrations test).
    pub async fn empty() -> Self {
        let name = format!("bg_e_{}", Uuid::new_v4().simple());
        let mut conn = admin_connection().await;
        diesel::sql_query(format!("CREATE DATABASE {}", quote_ident(&name)))
            .execute(&mut conn)
            .await
            .unwrap();
        Self {
            url: database_url(&name),
            name,
        }
    }

    pub async fn connect(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url)
            .await
            .expect("connect to test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside async code: use a private runtime on a helper thread.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let mut conn = admin_connection().await;
                let _ = diesel::sql_query(format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    quote_ident(&name)
                ))
                .execute(&mut conn)
                .await;
            });
        })
        .join();
    }
}

#[derive(Parser)]
#[command(args_override_self = true)]
struct TestConfig {
    #[command(flatten)]
    config: Config,
}

/// A configuration for tests: defaults, rate limits off, plus `extra` flags.
pub fn test_config(database_url: &str, extra: &[&str]) -> Config {
    let mut args = vec![
        "test",
        "--database-url",
        database_url,
        "--app-env",
        "test",
        "--jwt-secret",
        "test-secret-test-secret-test-secret!",
        "--rate-limit-enabled",
        "false",
        "--cache-enabled",
        "false",
    ];
    args.extend_from_slice(extra);
    TestConfig::try_parse_from(args)
        .expect("valid test configuration")
        .config
}

static CLIENT_ADDRESS: AtomicU64 = AtomicU64::new(1);

/// The real router and state over a test database.
pub struct TestApp {
    pub db: std::sync::Arc<TestDb>,
    pub state: AppState,
    /// The GraphQL runtime the router serves (execution turns, schema).
    pub gateway: Gateway,
    router: Router,
}

/// A response with its body parsed as JSON (or `Value::String` when it is not JSON).
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_flags(&[]).await
    }

    pub async fn with_flags(flags: &[&str]) -> Self {
        let db = TestDb::new().await;
        let config = test_config(&db.url, flags);
        Self::with_config(db, config).await
    }

    pub async fn with_config(db: TestDb, config: Config) -> Self {
        Self::on_database(std::sync::Arc::new(db), config).await
    }

    /// Another gateway instance over the same database (with its own configuration).
    pub async fn another_instance(&self, flags: &[&str]) -> TestApp {
        Self::on_database(self.db.clone(), test_config(&self.db.url, flags)).await
    }

    /// An instance over a database that other instances may share.
    pub async fn on_shared_database(db: std::sync::Arc<TestDb>, config: Config) -> Self {
        Self::on_database(db, config).await
    }

    async fn on_database(db: std::sync::Arc<TestDb>, config: Config) -> Self {
        let state = blog_gateway::build_state(config).await.expect("state builds");
        // A distinct client address per app keeps per-IP limits of parallel tests apart.
        let n = CLIENT_ADDRESS.fetch_add(1, Ordering::Relaxed);
        let address = SocketAddr::from(([10, 0, (n / 250) as u8, (n % 250) as u8 + 1], 40000));
        let gateway = Gateway::new(state.clone());
        let router = blog_gateway::app::build_app_with(gateway.clone()).layer(MockConnectInfo(address));
        Self {
            db,
            state,
            gateway,
            router,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(text.clone()));
        TestResponse {
            status,
            headers,
            body,
            text,
        }
    }

    /// A request with an optional JSON body and bearer token.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        self.call_with(method, path, token, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let get_query = (method == Method::GET).then(|| path.to_owned());
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            builder = builder.header(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let graphql_request = (path == "/graphql" || path.starts_with("/graphql?")).then(|| body.clone());
        let request = match body {
            Some(body) => builder
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => builder.body(Body::empty()),
        }
        .unwrap();
        let response = self.send(request).await;
        match (graphql_request, get_query) {
            (Some(_), Some(path)) => check_get_answer(&path, &response),
            (Some(Some(body)), None) => check_answer(&body, &response),
            _ => {}
        }
        response
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.call(Method::GET, path, token, None).await
    }

    /// POSTs a GraphQL document.
    pub async fn graphql(&self, query: &str, variables: Value, token: Option<&str>) -> TestResponse {
        self.call(
            Method::POST,
            "/graphql",
            token,
            Some(json!({ "query": query, "variables": variables })),
        )
        .await
    }

    /// Runs a GraphQL document and returns its `data`, failing on any error.
    pub async fn graphql_ok(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let response = self.graphql(query, variables, token).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        assert!(
            response.body.get("errors").is_none(),
            "unexpected errors: {}",
            response.text
        );
        response.body["data"].clone()
    }

    /// Statement counts of one request.
    pub async fn count_statements<F: std::future::Future<Output = TestResponse>>(
        &self,
        request: F,
    ) -> (TestResponse, StatementCounts) {
        self.state.statements().reset();
        let response = request.await;
        (response, self.state.statements().snapshot())
    }

    /// Registers a user through the service layer and returns (id, access token, refresh token).
    pub async fn user(&self, username: &str, role: Role) -> TestUser {
        let response = self
            .call(
                Method::POST,
                "/api/auth/register",
                None,
                Some(json!({ "username": username, "email": format!("{username}@example.com"), "password": PASSWORD,
                              "profile": { "firstName": "Test", "lastName": username } })),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        let id: Uuid = response.body["user"]["id"].as_str().unwrap().parse().unwrap();
        if role != Role::User {
            let mut conn = self.db.connect().await;
            use blog_gateway::db::schema::users;
            diesel::update(users::table.find(id))
                .set(users::role.eq(role))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        TestUser {
            id,
            username: username.to_owned(),
            token: response.body["tokens"]["accessToken"]
                .as_str()
                .unwrap()
                .to_owned(),
            refresh_token: response.body["tokens"]["refreshToken"]
                .as_str()
                .unwrap()
                .to_owned(),
        }
    }

    /// Adds a comment through GraphQL and returns its id.
    pub async fn comment(&self, author: &TestUser, post_id: &str, content: &str) -> String {
        let data = self
            .graphql_ok(
                "mutation($p: ID!, $c: String!) { addComment(postId: $p, content: $c) { id } }",
                json!({ "p": post_id, "c": content }),
                Some(&author.token),
            )
            .await;
        data["addComment"]["id"].as_str().unwrap().to_owned()
    }

    /// Creates a post through GraphQL and returns its id.
    pub async fn post(&self, author: &TestUser, title: &str, published: bool) -> String {
        let data = self
            .graphql_ok(
                "mutation($input: CreatePostInput!) { createPost(input: $input) { id } }",
                json!({ "input": { "title": title, "content": format!("{title}: some body text long enough."),
                                   "category": "TECHNOLOGY", "tags": ["rust"], "isPublished": published } }),
                Some(&author.token),
            )
            .await;
        data["createPost"]["id"].as_str().unwrap().to_owned()
    }
}

pub struct TestUser {
    pub id: Uuid,
    pub username: String,
    pub token: String,
    pub refresh_token: String,
}

/// The served schema as the checker reads it: `schema.graphql` (never the server's registry).
fn served_schema() -> &'static crate::checker::Schema {
    static SCHEMA: std::sync::OnceLock<crate::checker::Schema> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        let sdl = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
            .expect("schema.graphql");
        crate::checker::Schema::parse(&sdl).expect("schema.graphql parses")
    })
}

/// Every GraphQL answer the tests receive through the helpers goes through the response checker
/// (`checker.rs`): a valid execution result by the spec for its document and variables. Answers
/// that are not GraphQL results (an HTTP refusal in another shape, a persisted query sent by hash
/// alone, whose text the test does not hold) are left to the test itself.
pub fn check_answer(request: &Value, response: &TestResponse) {
    match (request, &response.body) {
        (Value::Array(requests), Value::Array(_)) => {
            let answers: Vec<Value> = serde_json::from_str(&response.text).unwrap_or_default();
            for (request, answer) in requests.iter().zip(answers) {
                check_one(request, &answer.to_string(), &response.text);
            }
        }
        (Value::Object(_), Value::Object(_)) => check_one(request, &response.text, &response.text),
        _ => {}
    }
}

fn check_get_answer(path: &str, response: &TestResponse) {
    let Some((_, raw)) = path.split_once('?') else {
        return;
    };
    let mut request = serde_json::Map::new();
    for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        let value = match key.as_ref() {
            "variables" | "extensions" => serde_json::from_str(&value).unwrap_or(Value::Null),
            _ => Value::String(value.into_owned()),
        };
        request.insert(key.into_owned(), value);
    }
    if matches!(response.body, Value::Object(_)) {
        check_one(&Value::Object(request), &response.text, &response.text);
    }
}

fn check_one(request: &Value, answer: &str, whole: &str) {
    let Some(document) = request.get("query").and_then(Value::as_str) else {
        return;
    };
    let variables = match request.get("variables") {
        Some(Value::Object(vars)) => Value::Object(vars.clone()),
        _ => json!({}),
    };
    let operation = request.get("operationName").and_then(Value::as_str);
    if let Err(problems) =
        crate::checker::check_response_text(served_schema(), document, operation, &variables, answer)
    {
        panic!(
            "the answer breaks the GraphQL spec:\n  {}\ndocument: {document}\nvariables: {variables}\nanswer: {whole}",
            problems.join("\n  ")
        );
    }
}

/// The first error's `extensions.code` of a GraphQL answer.
pub fn error_code(response: &TestResponse) -> String {
    response.body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
        .to_owned()
}

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

/// Whether `program` is on the PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}
