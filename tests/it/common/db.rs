//! Databases for tests: one per test, cloned from a migrated template, dropped after.

use blog_gateway::config::Config;
use blog_gateway::db::pool::{quote_ident, run_migrations};
use clap::Parser;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tokio::sync::OnceCell;
use uuid::Uuid;

/// Every table the migrations create.
pub const TABLES: &[&str] = &[
    "users",
    "posts",
    "comments",
    "post_likes",
    "refresh_tokens",
    "trusted_documents",
];

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
    /// Whether it lives on the shared test server (and is dropped with the test); a private
    /// server removes its own.
    owned: bool,
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
            owned: true,
        }
    }

    /// The handle of database `name` on the shared server, not created here (a command under
    /// test creates it); dropping the handle removes it.
    pub fn named(name: &str) -> Self {
        Self {
            url: database_url(name),
            name: name.to_owned(),
            owned: true,
        }
    }

    /// A database on a private server of the test's own (`common::postgres`), migrated here.
    pub async fn private(url: &str) -> Self {
        run_migrations(url)
            .await
            .expect("migrations run on the private server");
        Self {
            name: url.rsplit('/').next().unwrap_or_default().to_owned(),
            url: url.to_owned(),
            owned: false,
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
            owned: true,
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
        if !self.owned {
            return;
        }
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

#[derive(diesel::QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: uuid::Uuid,
}

/// The ids a plain SQL statement lists (its one column `id`), in its order: what a page is
/// checked against.
pub async fn sql_ids(conn: &mut diesel_async::AsyncPgConnection, sql: &str) -> Vec<String> {
    use diesel_async::RunQueryDsl;
    diesel::sql_query(sql)
        .load::<IdRow>(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .map(|row| row.id.to_string())
        .collect()
}
