//! Rate limits: REST per IP, login/register per IP and per account, GraphQL by cost.

use axum::http::{Method, StatusCode};
use blog_gateway::db::models::Role;
use serde_json::json;

use crate::common::{PASSWORD, TestApp, error_code};

#[tokio::test]
async fn rest_requests_are_limited_per_ip_with_the_legacy_answer() {
    let app = TestApp::with_flags(&["--rate-limit-enabled", "true", "--rate-limit-max", "3"]).await;
    for remaining in ["2", "1", "0"] {
        let response = app.get("/api/posts", None).await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(response.headers["ratelimit-limit"], "3");
        assert_eq!(response.headers["ratelimit-remaining"], remaining);
    }
    let refused = app.get("/api/posts", None).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        refused.body,
        json!({ "success": false, "message": "Too many requests from this IP" })
    );
    let retry_after: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=300).contains(&retry_after), "{retry_after}");
    assert!(refused.headers.contains_key("ratelimit-reset"));
    // Health is never limited (load balancers poll it).
    assert_eq!(app.get("/api/health", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    let trusting = TestApp::with_flags(&[
        "--rate-limit-enabled",
        "true",
        "--rate-limit-max",
        "1",
        "--trust-proxy",
        "true",
    ])
    .await;
    for ip in ["203.0.113.1", "203.0.113.2"] {
        let response = trusting
            .call_with(Method::GET, "/api/posts", None, None, &[("x-forwarded-for", ip)])
            .await;
        assert_eq!(response.status, StatusCode::OK, "{ip} has its own budget");
    }
    let plain = TestApp::with_flags(&["--rate-limit-enabled", "true", "--rate-limit-max", "1"]).await;
    let first = plain
        .call_with(
            Method::GET,
            "/api/posts",
            None,
            None,
            &[("x-forwarded-for", "203.0.113.1")],
        )
        .await;
    assert_eq!(first.status, StatusCode::OK);
    let spoofed = plain
        .call_with(
            Method::GET,
            "/api/posts",
            None,
            None,
            &[("x-forwarded-for", "203.0.113.2")],
        )
        .await;
    assert_eq!(
        spoofed.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the header is ignored without TRUST_PROXY"
    );
}

#[tokio::test]
async fn login_attempts_are_limited_per_ip_and_per_account() {
    let app = TestApp::with_flags(&[
        "--rate-limit-enabled",
        "true",
        "--auth-rate-limit-max",
        "3",
        "--trust-proxy",
        "true",
    ])
    .await;
    app.user("ann", Role::User).await; // charges ann's account once
    let login = |email: &'static str, password: &'static str, ip: &'static str| {
        let app = &app;
        async move {
            app.call_with(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({ "email": email, "password": password })),
                &[("x-forwarded-for", ip)],
            )
            .await
        }
    };
    // Per IP: three attempts on other accounts spend the address's budget.
    for email in ["x1@example.com", "x2@example.com", "x3@example.com"] {
        assert_eq!(
            login(email, "guess-guess", "198.51.100.1").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let refused = login("ann@example.com", PASSWORD, "198.51.100.1").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers.contains_key("retry-after"));
    assert_eq!(refused.body["message"], "Too many requests from this IP");
    // Per account: fresh addresses do not help once the account's budget is spent.
    assert_eq!(
        login("ann@example.com", "wrong-password", "198.51.100.2")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login("ANN@example.com", PASSWORD, "198.51.100.3").await.status,
        StatusCode::OK
    );
    let refused = login("ann@example.com", PASSWORD, "198.51.100.4").await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the account's budget is spent"
    );
    // The GraphQL door shares the budget and answers RATE_LIMITED.
    let graphql = app
        .call_with(
            Method::POST,
            "/graphql",
            None,
            Some(json!({ "query": "mutation($p: String!) { login(email: \"ann@example.com\", password: $p) { user { id } } }", "variables": { "p": PASSWORD } })),
            &[("x-forwarded-for", "198.51.100.5")],
        )
        .await;
    assert_eq!(error_code(&graphql), "RATE_LIMITED", "{}", graphql.text);
}

#[tokio::test]
async fn graphql_requests_are_charged_their_cost() {
    let app = TestApp::with_flags(&[
        "--rate-limit-enabled",
        "true",
        "--graphql-rate-limit-points",
        "120",
    ])
    .await;
    let query = "{ posts(first: 50) { nodes { id } } }";
    for _ in 0..2 {
        let response = app.graphql(query, json!({}), None).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        assert_eq!(response.body["extensions"]["cost"], 50);
    }
    let refused = app.graphql(query, json!({}), None).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(&refused), "RATE_LIMITED");
    assert!(refused.headers.contains_key("retry-after"));
    assert_eq!(refused.headers["ratelimit-limit"], "120");
    // A cheaper query still fits in what is left.
    let cheap = app
        .graphql("{ posts(first: 10) { nodes { id } } }", json!({}), None)
        .await;
    assert_eq!(cheap.status, StatusCode::OK, "{}", cheap.text);
}

/// A registration refused for its body still spends the address's attempts: a client cannot
/// probe with malformed bodies for free, and one already limited is told 429, not 400.
#[tokio::test]
async fn malformed_registrations_count_against_the_auth_limit() {
    let app = TestApp::with_flags(&["--rate-limit-enabled", "true", "--auth-rate-limit-max", "1"]).await;
    let malformed = app
        .call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(json!({ "username": "probe", "email": "probe@example.com", "password": 12345678 })),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST, "{}", malformed.text);
    let valid = app
        .call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(json!({ "username": "later", "email": "later@example.com", "password": PASSWORD })),
        )
        .await;
    assert_eq!(valid.status, StatusCode::TOO_MANY_REQUESTS, "{}", valid.text);
}
