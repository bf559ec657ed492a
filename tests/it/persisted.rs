//! Automatic persisted queries (Apollo's protocol) and the trusted-documents mode.

use axum::http::Method;
use blog_gateway::digest::sha256_hex;
use serde_json::{Value, json};

use crate::common::{RedisPrefix, TestApp, binary, error_code, redis_url};

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn send(app: &TestApp, query: Option<&str>, hash: &str) -> crate::common::TestResponse {
    let mut body = json!({ "extensions": persisted(hash) });
    if let Some(query) = query {
        body["query"] = json!(query);
    }
    app.call(Method::POST, "/graphql", None, Some(body)).await
}

#[tokio::test]
async fn automatic_persisted_queries_follow_the_apollo_protocol() {
    let app = TestApp::new().await;
    let query = "{ posts { totalCount } }";
    let hash = sha256_hex(query);
    let unknown = send(&app, None, &hash).await;
    assert_eq!(error_code(&unknown), "PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(unknown.body["errors"][0]["message"], "PersistedQueryNotFound");
    let registered = send(&app, Some(query), &hash).await;
    assert_eq!(
        registered.body["data"]["posts"]["totalCount"], 0,
        "{}",
        registered.text
    );
    let by_hash = send(&app, None, &hash).await;
    assert_eq!(by_hash.body["data"]["posts"]["totalCount"], 0, "{}", by_hash.text);
    let mismatch = send(&app, Some("{ me { id } }"), &hash).await;
    assert_eq!(
        mismatch.body["errors"][0]["message"],
        "provided sha does not match query"
    );
    let extensions = serde_json::to_string(&persisted(&hash)).unwrap();
    let encoded: String = url::form_urlencoded::byte_serialize(extensions.as_bytes()).collect();
    let get = app.get(&format!("/graphql?extensions={encoded}"), None).await;
    assert_eq!(
        get.body["data"]["posts"]["totalCount"], 0,
        "GET with the hash alone: {}",
        get.text
    );
    // A persisted mutation is still refused over GET.
    let mutation = "mutation { logout }";
    send(&app, Some(mutation), &sha256_hex(mutation)).await;
    let extensions = serde_json::to_string(&persisted(&sha256_hex(mutation))).unwrap();
    let encoded: String = url::form_urlencoded::byte_serialize(extensions.as_bytes()).collect();
    assert_eq!(
        app.get(&format!("/graphql?extensions={encoded}"), None)
            .await
            .status,
        axum::http::StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn persisted_queries_are_shared_through_redis() {
    let url = redis_url();
    let prefix = RedisPrefix::new();
    let flags = ["--redis-url", url.as_str(), "--redis-prefix", prefix.0.as_str()];
    let a = TestApp::with_flags(&flags).await;
    let b = a.another_instance(&flags).await;
    let query = "query Shared { posts { totalCount } }";
    let hash = sha256_hex(query);
    assert!(send(&a, Some(query), &hash).await.body["data"].is_object());
    let on_b = send(&b, None, &hash).await;
    assert_eq!(on_b.body["data"]["posts"]["totalCount"], 0, "{}", on_b.text);
}

#[tokio::test]
async fn trusted_mode_runs_only_registered_documents() {
    let app = TestApp::new().await;
    let dir = std::env::temp_dir().join(format!("bg-docs-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let feed = "query Feed { posts(first: 5) { nodes { id title } } }";
    std::fs::write(dir.join("feed.graphql"), feed).unwrap();
    std::fs::write(dir.join("broken.txt"), "not graphql and not loaded").unwrap();

    // The command registers a file and prints its hash.
    let output = binary()
        .args(["documents", "add"])
        .arg(dir.join("feed.graphql"))
        .env("DATABASE_URL", &app.db.url)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with(&sha256_hex(feed)), "{stdout}");
    // The folder loader registers *.graphql files only.
    let me = "query Me { me { id } }";
    std::fs::write(dir.join("me.graphql"), me).unwrap();
    assert_eq!(
        blog_gateway::cli::load_folder(&app.db.url, &dir).await.unwrap(),
        2
    );

    let trusted = app.another_instance(&["--trusted-documents", "true"]).await;
    let by_text = trusted.graphql(feed, json!({}), None).await;
    assert!(
        by_text.body["data"]["posts"]["nodes"].is_array(),
        "{}",
        by_text.text
    );
    let by_hash = send(&trusted, None, &sha256_hex(me)).await;
    assert_eq!(by_hash.body["data"]["me"], Value::Null, "{}", by_hash.text);
    let other = trusted.graphql("{ posts { totalCount } }", json!({}), None).await;
    assert_eq!(error_code(&other), "PERSISTED_QUERY_NOT_ALLOWED");
    let unknown_hash = send(&trusted, None, &sha256_hex("{ __typename }")).await;
    assert_eq!(error_code(&unknown_hash), "PERSISTED_QUERY_NOT_ALLOWED");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `blog-gateway documents add` on files against the app's database.
fn documents_add(app: &TestApp, files: &[&std::path::Path]) -> std::process::Output {
    binary()
        .args(["documents", "add"])
        .args(files)
        .env("DATABASE_URL", &app.db.url)
        .output()
        .unwrap()
}

#[tokio::test]
async fn manifests_register_documents_under_the_ids_their_tools_gave() {
    let app = TestApp::new().await;
    let dir = std::env::temp_dir().join(format!("bg-manifests-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let feed = "query Feed { posts(first: 2) { totalCount } }";
    let me = "query Me { me { id } }";
    // Apollo's manifest (sha256 ids), and the id maps of Relay (md5) and codegen (sha1).
    let apollo = dir.join("persisted-query-manifest.json");
    std::fs::write(
        &apollo,
        json!({ "format": "apollo-persisted-query-manifest", "version": 1, "operations": [
            { "id": sha256_hex(feed), "name": "Feed", "type": "query", "body": feed } ] })
        .to_string(),
    )
    .unwrap();
    let relay = dir.join("persisted_queries.json");
    std::fs::write(
        &relay,
        json!({ "0123456789abcdef0123456789abcdef": me }).to_string(),
    )
    .unwrap();
    let output = documents_add(&app, &[&apollo, &relay]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("1 documents") && stdout.contains("Apollo persisted query manifest"),
        "{stdout}"
    );

    // Any mode runs a registered document by id: documentId (POST, GET, `sha256:`), doc_id.
    for body in [
        json!({ "documentId": sha256_hex(feed) }),
        json!({ "documentId": format!("sha256:{}", sha256_hex(feed)) }),
        json!({ "doc_id": sha256_hex(feed), "query": null }),
    ] {
        let answer = app.call(Method::POST, "/graphql", None, Some(body.clone())).await;
        assert_eq!(
            answer.body["data"]["posts"]["totalCount"], 0,
            "{body}: {}",
            answer.text
        );
    }
    let by_get = app
        .get("/graphql?doc_id=0123456789abcdef0123456789abcdef", None)
        .await;
    assert_eq!(by_get.body["data"]["me"], Value::Null, "{}", by_get.text);
    assert!(by_get.body.get("errors").is_none(), "{}", by_get.text);
    let batch = app
        .call(
            Method::POST,
            "/graphql",
            None,
            Some(json!([{ "documentId": sha256_hex(feed) }, { "doc_id": "unknown-id" }])),
        )
        .await;
    assert_eq!(batch.body[0]["data"]["posts"]["totalCount"], 0, "{}", batch.text);
    assert_eq!(
        batch.body[1]["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND",
        "{}",
        batch.text
    );
    let both = app
        .call(
            Method::POST,
            "/graphql",
            None,
            Some(json!({ "documentId": sha256_hex(feed), "query": feed })),
        )
        .await;
    assert_eq!(error_code(&both), "BAD_REQUEST", "{}", both.text);
    let two_ids = app
        .call(
            Method::POST,
            "/graphql",
            None,
            Some(json!({ "documentId": sha256_hex(feed), "doc_id": "0123456789abcdef0123456789abcdef" })),
        )
        .await;
    assert_eq!(error_code(&two_ids), "BAD_REQUEST", "{}", two_ids.text);
    let two_in_url = app
        .get(
            &format!(
                "/graphql?documentId={}&doc_id=0123456789abcdef0123456789abcdef",
                sha256_hex(feed)
            ),
            None,
        )
        .await;
    assert_eq!(error_code(&two_in_url), "BAD_REQUEST", "{}", two_in_url.text);

    // A manifest is registered whole or not at all: an id that already names another document
    // refuses the file, and none of its documents is stored.
    let clash = dir.join("persisted-documents.json");
    let fresh = "query Fresh { posts(first: 1) { totalCount } }";
    std::fs::write(
        &clash,
        json!({ "aaaa": fresh, "0123456789abcdef0123456789abcdef": feed }).to_string(),
    )
    .unwrap();
    let output = documents_add(&app, &[&clash]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("already names another document"), "{stderr}");
    let fresh_by_hash = app
        .call(
            Method::POST,
            "/graphql",
            None,
            Some(json!({ "documentId": format!("sha256:{}", sha256_hex(fresh)) })),
        )
        .await;
    assert_eq!(
        error_code(&fresh_by_hash),
        "PERSISTED_QUERY_NOT_FOUND",
        "{}",
        fresh_by_hash.text
    );

    // Not a manifest: a clear reason, nothing registered.
    let broken = dir.join("broken.json");
    std::fs::write(&broken, r#"{"an-id": "query { not closed"}"#).unwrap();
    let output = documents_add(&app, &[&broken]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("is not GraphQL"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn in_trusted_mode_only_the_router_secret_runs_unregistered_documents() {
    let app = TestApp::new().await;
    let trusted = app
        .another_instance(&[
            "--trusted-documents",
            "true",
            "--router-secret",
            "the-router-secret",
        ])
        .await;
    let plan = json!({ "query": "{ posts(first: 1) { totalCount } }" });
    let router = trusted
        .call_with(
            Method::POST,
            "/graphql",
            None,
            Some(plan.clone()),
            &[("x-router-secret", "the-router-secret")],
        )
        .await;
    assert_eq!(router.body["data"]["posts"]["totalCount"], 0, "{}", router.text);
    for secret in [None, Some("the-router-secreT"), Some("")] {
        let headers: Vec<(&str, &str)> = secret.iter().map(|s| ("x-router-secret", *s)).collect();
        let refused = trusted
            .call_with(Method::POST, "/graphql", None, Some(plan.clone()), &headers)
            .await;
        assert_eq!(
            error_code(&refused),
            "PERSISTED_QUERY_NOT_ALLOWED",
            "{secret:?}: {}",
            refused.text
        );
    }
    // Without ROUTER_SECRET configured, no header exempts anyone.
    let closed = app.another_instance(&["--trusted-documents", "true"]).await;
    let refused = closed
        .call_with(
            Method::POST,
            "/graphql",
            None,
            Some(plan),
            &[("x-router-secret", "")],
        )
        .await;
    assert_eq!(
        error_code(&refused),
        "PERSISTED_QUERY_NOT_ALLOWED",
        "{}",
        refused.text
    );
}
