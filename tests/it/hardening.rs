//! HTTP hardening on every route: CORS, the helmet headers, compression, timeouts.

use axum::http::{Method, StatusCode};
use blog_gateway::db::models::Role;
use serde_json::json;

use crate::common::TestApp;

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let app = TestApp::with_flags(&[
        "--allowed-origins",
        "https://app.example.com,http://localhost:3000",
    ])
    .await;
    let allowed = app
        .call_with(
            Method::GET,
            "/api/posts",
            None,
            None,
            &[("origin", "https://app.example.com")],
        )
        .await;
    assert_eq!(
        allowed.headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(allowed.headers["access-control-allow-credentials"], "true");
    let foreign = app
        .call_with(
            Method::GET,
            "/api/posts",
            None,
            None,
            &[("origin", "https://evil.example")],
        )
        .await;
    assert!(
        foreign.headers.get("access-control-allow-origin").is_none(),
        "a foreign origin gets no CORS headers"
    );
    let preflight = app
        .call_with(
            Method::OPTIONS,
            "/graphql",
            None,
            None,
            &[
                ("origin", "http://localhost:3000"),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "authorization,content-type"),
            ],
        )
        .await;
    assert!(preflight.status.is_success());
    assert_eq!(
        preflight.headers["access-control-allow-origin"],
        "http://localhost:3000"
    );
    let methods = preflight.headers["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(methods.contains("POST"), "{methods}");
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = TestApp::new().await;
    let graphql = app.graphql("{ posts { totalCount } }", json!({}), None).await;
    for response in [
        app.get("/api/posts", None).await,
        app.get("/api/nothing", None).await,
        graphql,
        app.get("/graphiql/static/init.js", None).await,
    ] {
        for header in [
            "content-security-policy",
            "x-content-type-options",
            "x-frame-options",
            "referrer-policy",
            "strict-transport-security",
            "cross-origin-opener-policy",
            "cross-origin-resource-policy",
        ] {
            assert!(response.headers.contains_key(header), "{header} missing");
        }
        assert_eq!(response.headers["x-content-type-options"], "nosniff");
        assert!(response.headers.get("x-powered-by").is_none());
        assert!(response.headers.contains_key("x-request-id"));
    }
}

#[tokio::test]
async fn large_answers_are_compressed_with_gzip_or_brotli() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    for i in 0..10 {
        app.post(&ann, &format!("A post to make the list long {i}"), true)
            .await;
    }
    for encoding in ["gzip", "br"] {
        let response = app
            .call_with(
                Method::GET,
                "/api/posts",
                None,
                None,
                &[("accept-encoding", encoding)],
            )
            .await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(response.headers["content-encoding"], encoding);
    }
    let plain = app.get("/api/posts", None).await;
    assert!(plain.headers.get("content-encoding").is_none());
}

#[tokio::test]
async fn prometheus_metrics_describe_traffic_pool_cache_and_errors() {
    let app = TestApp::with_flags(&["--cache-enabled", "true"]).await;
    app.get("/api/posts", None).await;
    app.get("/api/posts", None).await;
    let _ = app
        .call(
            Method::POST,
            "/graphql",
            None,
            Some(json!({ "query": "query Feed { posts { totalCount } }", "operationName": "Feed" })),
        )
        .await;
    let _ = app
        .graphql("{ post(id: \"nope\") { id } }", json!({}), None)
        .await;
    let metrics = app.get("/metrics", None).await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    for needle in [
        "http_requests_total{method=\"GET\",route=\"/api/posts\",status=\"200\"}",
        "graphql_operations_total{operation=\"Feed\",outcome=\"ok\"}",
        "graphql_operation_duration_seconds_bucket{operation=\"Feed\"",
        "graphql_errors_total{code=\"BAD_USER_INPUT\"}",
        "app_errors_total{code=\"BAD_USER_INPUT\"}",
        "db_pool_connections",
        "db_pool_in_use_connections",
        "db_pool_waits_total",
        "cache_hits_total",
        "cache_misses_total",
        "graphql_subscriptions_active",
    ] {
        assert!(
            metrics.text.contains(needle),
            "{needle} missing from:\n{}",
            metrics.text
        );
    }
}

/// The `Access-Control-Allow-Origin` a GET from `origin` gets, if any.
async fn allowed_origin(app: &TestApp, origin: &str) -> Option<String> {
    let answer = app
        .call_with(Method::GET, "/api/posts", None, None, &[("origin", origin)])
        .await;
    answer
        .headers
        .get("access-control-allow-origin")
        .map(|value| value.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn development_allows_any_local_origin_and_production_only_the_list() {
    let development = TestApp::with_flags(&["--app-env", "development"]).await;
    for origin in [
        "http://localhost:5173",
        "http://127.0.0.1:8080",
        "https://localhost",
        "http://[::1]:4000",
        "http://localhost:3000",
    ] {
        assert_eq!(
            allowed_origin(&development, origin).await.as_deref(),
            Some(origin),
            "{origin} in development"
        );
    }
    for origin in [
        "http://localhost.evil.example",
        "http://localhost:5173@evil.example",
        "http://localhost:5173.evil.example",
        "http://LOCALHOST:5173",
        "http://localhost.:5173",
        "http://[::ffff:127.0.0.1]:80",
        "http://127.0.0.2:5173",
        "http://evil.example:5173",
        "file://localhost",
        "null",
    ] {
        assert_eq!(
            allowed_origin(&development, origin).await,
            None,
            "{origin} in development"
        );
    }

    let production = TestApp::with_flags(&[
        "--app-env",
        "production",
        "--jwt-secret",
        "a-production-secret-of-at-least-32-characters",
        "--allowed-origins",
        "https://app.example.com",
    ])
    .await;
    assert_eq!(
        allowed_origin(&production, "https://app.example.com")
            .await
            .as_deref(),
        Some("https://app.example.com")
    );
    for origin in ["http://localhost:5173", "http://localhost:3000"] {
        assert_eq!(
            allowed_origin(&production, origin).await,
            None,
            "{origin} in production"
        );
    }
}

#[tokio::test]
async fn preflights_allow_the_headers_apollo_and_urql_send() {
    let app = TestApp::new().await;
    let preflight = app
        .call_with(
            Method::OPTIONS,
            "/graphql",
            None,
            None,
            &[
                ("origin", "http://localhost:3000"),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "content-type,apollographql-client-name,apollographql-client-version,apollo-require-preflight",
                ),
            ],
        )
        .await;
    assert!(preflight.status.is_success());
    let allowed = preflight.headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in [
        "apollographql-client-name",
        "apollographql-client-version",
        "apollo-require-preflight",
    ] {
        assert!(allowed.contains(header), "{header} not in {allowed}");
    }
}
