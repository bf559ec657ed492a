//! The skeleton: health, migrations, the benchmark seed, configuration and start-up errors.

use std::process::Command;

use axum::http::StatusCode;
use blog_gateway::db::pool::{revert_all_migrations, run_migrations};
use diesel_async::RunQueryDsl;
use serde_json::json;

use crate::common::{TABLES, TestApp, TestDb, binary, test_config};

#[tokio::test]
async fn health_reports_ok_with_the_legacy_shape() {
    let app = TestApp::new().await;
    let response = app.get("/api/health", None).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body["status"], "OK");
    assert_eq!(
        response.body["services"],
        json!({ "database": "OK", "redis": "DISABLED" })
    );
    assert!(response.body["uptime"].as_f64().is_some());
    assert!(response.body["timestamp"].as_str().unwrap().ends_with('Z'));
    assert!(
        response.body.get("success").is_none(),
        "health has no success field"
    );
    assert!(response.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn request_ids_are_kept_when_given() {
    let app = TestApp::new().await;
    let response = app
        .call_with(
            axum::http::Method::GET,
            "/api/health",
            None,
            None,
            &[("x-request-id", "abc-123")],
        )
        .await;
    assert_eq!(response.headers["x-request-id"], "abc-123");
}

#[tokio::test]
async fn an_unreachable_database_answers_503_fast() {
    let db = TestDb::new().await;
    // Nothing listens on port 1: every checkout fails at once.
    let config = test_config("postgres://postgres@127.0.0.1:1/nowhere", &[]);
    let app = TestApp::with_config(db, config).await;
    let started = std::time::Instant::now();
    let health = app.get("/api/health", None).await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(health.body["status"], "ERROR");
    assert_eq!(health.body["services"]["database"], "ERROR");
    let response = app.graphql("{ posts { nodes { id } } }", json!({}), None).await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "a field error: {}",
        response.text
    );
    assert_eq!(crate::common::error_code(&response), "UNAVAILABLE");
    let rest = app.get("/api/posts", None).await;
    assert_eq!(rest.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(rest.body["success"], false);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "failed fast: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn migrations_apply_revert_and_apply_again() {
    let db = TestDb::empty().await;
    run_migrations(&db.url).await.unwrap();
    let mut conn = db.connect().await;
    for table in TABLES {
        diesel::sql_query(format!("SELECT 1 FROM {table} LIMIT 1"))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    drop(conn);
    revert_all_migrations(&db.url).await.unwrap();
    let mut conn = db.connect().await;
    let leftover = diesel::sql_query("SELECT 1 FROM posts").execute(&mut conn).await;
    assert!(leftover.is_err(), "posts is gone after revert");
    drop(conn);
    run_migrations(&db.url).await.unwrap();
    // Idempotent: a second run applies nothing and succeeds.
    run_migrations(&db.url).await.unwrap();
}

/// The benchmark loads the rig's seed into our migrated schema; it must keep loading.
#[tokio::test]
async fn the_benchmark_seed_loads_into_the_migrated_schema() {
    let db = TestDb::new().await;
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/seed.sql");
    assert!(seed.exists(), "shared/bench/seed.sql sits beside the checkout");
    let output = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &db.url, "-f"])
        .arg(&seed)
        .output()
        .expect("psql runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let url = db.url.clone();
    let app = TestApp::with_config(db, test_config(&url, &[])).await;
    let data = app
        .graphql_ok("{ posts(first: 3) { totalCount nodes { id } } }", json!({}), None)
        .await;
    assert_eq!(data["posts"]["totalCount"], 17_981, "the rig's published count");
    let detail = app
        .graphql_ok(
            "query($id: ID!) { post(id: $id) { commentCount comments(first: 100) { totalCount pageInfo { hasNextPage } nodes { id } } } }",
            json!({ "id": "915dc7d8-2358-12ce-718a-d8ad379b9aa4" }),
            None,
        )
        .await;
    assert_eq!(detail["post"]["commentCount"], 126);
    assert_eq!(detail["post"]["comments"]["totalCount"], 126);
    assert_eq!(detail["post"]["comments"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(detail["post"]["comments"]["nodes"].as_array().unwrap().len(), 100);
}

#[test]
fn bad_settings_stop_start_up_with_one_line() {
    let cases = [
        (
            "PORT",
            "abc",
            "PORT (--port) = \"abc\": expected a TCP port number",
        ),
        (
            "JWT_EXPIRE",
            "soon",
            "JWT_EXPIRE (--jwt-expire) = \"soon\": expected a duration",
        ),
        (
            "DATABASE_URL",
            "not a url",
            "DATABASE_URL (--database-url) = \"not a url\": expected a postgres:// URL",
        ),
        (
            "APP_ENV",
            "prod",
            "APP_ENV (--app-env) = \"prod\": expected one of",
        ),
    ];
    for (var, value, expected) in cases {
        let output = binary().env(var, value).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{var}={value} must fail");
        assert!(stderr.contains(expected), "{var}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    }
    let output = binary().env("APP_ENV", "production").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("JWT_SECRET"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

#[test]
fn an_unreachable_postgres_at_start_is_one_clear_line() {
    let output = binary()
        .env("DATABASE_URL", "postgres://postgres:secret@127.0.0.1:1/blog")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    let line = stderr
        .lines()
        .find(|l| l.contains("cannot connect to PostgreSQL"))
        .expect(&stderr);
    assert!(line.contains("127.0.0.1:1"), "{line}");
    assert!(line.contains("start it"), "says how to start Postgres: {line}");
    assert!(!stderr.contains("secret"), "the password is redacted: {stderr}");
}
