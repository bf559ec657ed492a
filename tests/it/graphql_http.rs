//! GraphQL over HTTP: media types, statuses, GET, batches, limits, GraphiQL.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestApp, TestResponse, error_code};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// The introspection query GraphiQL and code generators send (graphql-js `getIntrospectionQuery`
/// with descriptions, deprecations and the nine-level type reference of graphql-js 17).
pub const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue isDeprecated deprecationReason }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}
"#;

async fn post_raw(app: &TestApp, body: &str, content_type: &str, accept: &str) -> TestResponse {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/graphql")
        .header("content-type", content_type)
        .header("accept", accept)
        .body(Body::from(body.to_owned()))
        .unwrap();
    app.send(request).await
}

async fn post_query(app: &TestApp, query: &str, variables: Value, accept: &str) -> TestResponse {
    post_raw(
        app,
        &json!({ "query": query, "variables": variables }).to_string(),
        "application/json",
        accept,
    )
    .await
}

#[tokio::test]
async fn refused_documents_are_400_under_graphql_response_json_and_200_under_json() {
    let app = TestApp::new().await;
    let cases = [
        ("{ posts { nodes { id }", json!({})),       // parse error
        ("{ posts { nodes { nope } } }", json!({})), // validation error
        (
            "query($n: Int) { posts(first: $n) { nodes { id } } }",
            json!({ "n": "ten" }),
        ), // variable coercion
        ("query($n: Int!) { posts(first: $n) { nodes { id } } }", json!({})), // missing variable
    ];
    for (query, variables) in cases {
        let (strict, counts) = app
            .count_statements(post_query(&app, query, variables.clone(), GRAPHQL_RESPONSE))
            .await;
        assert_eq!(strict.status, StatusCode::BAD_REQUEST, "{query}: {}", strict.text);
        assert!(
            strict.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with(GRAPHQL_RESPONSE)
        );
        assert!(strict.body["errors"][0]["message"].is_string());
        assert!(strict.body.get("data").is_none() || strict.body["data"].is_null());
        assert_eq!(counts.queries, 0, "no SQL for a refused document");
        let legacy = post_query(&app, query, variables, "application/json").await;
        assert_eq!(legacy.status, StatusCode::OK, "{query}");
        assert!(
            legacy.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        assert!(legacy.body["errors"].is_array());
    }
    // A field error is 200 with data and errors under either media type.
    let field_error = post_query(&app, "{ post(id: \"nope\") { id } }", json!({}), GRAPHQL_RESPONSE).await;
    assert_eq!(field_error.status, StatusCode::OK);
    assert_eq!(error_code(&field_error), "BAD_USER_INPUT");
    assert!(field_error.body.get("data").is_some());
}

#[tokio::test]
async fn malformed_bodies_get_json_errors_with_the_right_status() {
    let app = TestApp::with_flags(&["--graphql-body-limit", "2048"]).await;
    let malformed = post_raw(&app, "{\"query\": ", "application/json", "application/json").await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(
        malformed.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Malformed JSON body")
    );
    let wrong_type = post_raw(
        &app,
        "{ posts { nodes { id } } }",
        "text/plain",
        "application/json",
    )
    .await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(wrong_type.body["errors"].is_array());
    let big =
        json!({ "query": format!("{{ posts {{ nodes {{ id }} }} }} #{}", "x".repeat(4096)) }).to_string();
    let too_large = post_raw(&app, &big, "application/json", "application/json").await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        too_large.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2048")
    );
    let not_a_request = post_raw(&app, "[1, 2]", "application/json", "application/json").await;
    assert_eq!(not_a_request.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn get_runs_queries_but_never_mutations() {
    let app = TestApp::new().await;
    let response = app
        .get("/graphql?query=%7B%20posts%20%7B%20totalCount%20%7D%20%7D", None)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    assert_eq!(response.body["data"]["posts"]["totalCount"], 0);
    let mutation = app
        .get("/graphql?query=mutation%20%7B%20logout%20%7D", None)
        .await;
    assert_eq!(mutation.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(mutation.headers["allow"], "POST");
    let named = app
        .get("/graphql?query=query%20A%20%7B%20posts%20%7B%20totalCount%20%7D%20%7D%20mutation%20B%20%7B%20logout%20%7D&operationName=A", None)
        .await;
    assert_eq!(
        named.status,
        StatusCode::OK,
        "the selected operation is a query: {}",
        named.text
    );
    let empty = app.get("/graphql", None).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn browsers_get_graphiql_from_embedded_assets() {
    let app = TestApp::new().await;
    let page = app
        .call_with(
            Method::GET,
            "/graphql",
            None,
            None,
            &[("accept", "text/html,application/xhtml+xml")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text.contains("/graphiql/static/graphiql.min.js"));
    assert!(
        !page.text.contains("unpkg") && !page.text.contains("cdn"),
        "no CDN"
    );
    for asset in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "init.js",
    ] {
        let response = app.get(&format!("/graphiql/static/{asset}"), None).await;
        assert_eq!(response.status, StatusCode::OK, "{asset}");
        assert!(response.text.len() > 100, "{asset}");
    }
    assert_eq!(
        app.get("/graphiql/static/nope.js", None).await.status,
        StatusCode::NOT_FOUND
    );
    // The CSP allows GraphiQL's own scripts and styles, nothing from elsewhere.
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
}

#[tokio::test]
async fn batches_run_each_operation_and_are_capped() {
    let app = TestApp::with_flags(&["--graphql-max-batch", "3"]).await;
    let batch = json!([{ "query": "{ posts { totalCount } }" }, { "query": "{ me { id } }" }]).to_string();
    let response = post_raw(&app, &batch, "application/json", "application/json").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body[0]["data"]["posts"]["totalCount"], 0);
    assert_eq!(response.body[1]["data"]["me"], Value::Null);
    let too_many: Vec<Value> = (0..4).map(|_| json!({ "query": "{ me { id } }" })).collect();
    let response = post_raw(
        &app,
        &Value::Array(too_many).to_string(),
        "application/json",
        "application/json",
    )
    .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(
        response.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 3")
    );
}

#[tokio::test]
async fn depth_cost_and_aliases_are_limited_before_any_sql() {
    let app = TestApp::new().await;
    let deep = format!(
        "{{ posts {{ nodes {{ {} id {} }} }} }}",
        "author { posts { nodes { ".repeat(5),
        "} } } ".repeat(5)
    );
    let expensive = "{ posts(first: 100) { nodes { comments(first: 100) { nodes { author { id } } } } } }";
    let aliases = format!(
        "{{ {} }}",
        (0..101)
            .map(|i| format!("a{i}: me {{ id }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    for (query, limit) in [
        (deep.as_str(), "depth"),
        (expensive, "cost"),
        (aliases.as_str(), "aliases"),
    ] {
        let (response, counts) = app
            .count_statements(post_query(&app, query, json!({}), GRAPHQL_RESPONSE))
            .await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{limit}: {}",
            response.text
        );
        assert_eq!(
            response.body["errors"][0]["extensions"]["code"],
            "GRAPHQL_VALIDATION_FAILED"
        );
        assert_eq!(response.body["errors"][0]["extensions"]["limit"], limit);
        assert_eq!(counts.queries, 0);
    }
    let nested = "{ posts(first: 50) { nodes { id title author { username } comments(first: 5) { nodes { id content author { username } } } } } }";
    let response = post_query(&app, nested, json!({}), GRAPHQL_RESPONSE).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body["extensions"]["cost"], 600);
}

#[tokio::test]
async fn the_standard_introspection_query_passes_and_can_be_turned_off() {
    let app = TestApp::new().await;
    let response = post_query(&app, INTROSPECTION, json!({}), GRAPHQL_RESPONSE).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    assert_eq!(response.body["data"]["__schema"]["queryType"]["name"], "Query");
    // Introspection has a cost since issue 18 (100 aliased `__schema`s cost nothing before):
    // `__schema` counts 1,000, well under the default limit.
    assert_eq!(response.body["extensions"]["cost"], 1_000);

    let closed = TestApp::with_flags(&["--graphql-introspection", "false"]).await;
    let response = post_query(&closed, INTROSPECTION, json!({}), GRAPHQL_RESPONSE).await;
    assert!(response.body["errors"].is_array(), "{}", response.text);
    assert!(response.body["data"].is_null() || response.body["data"]["__schema"].is_null());
}

/// GRAPHQL_MAX_CONCURRENCY: an operation waits while every turn is taken, and runs once one
/// frees up.
#[tokio::test]
async fn operations_wait_for_a_free_execution_turn() {
    let app = TestApp::with_flags(&["--graphql-max-concurrency", "1"]).await;
    assert_eq!(app.gateway.free_execution_turns(), 1);
    let held = app.gateway.execution_turn().await.expect("a free turn");
    let waiting = app.graphql("{ posts(first: 1) { nodes { id } } }", json!({}), None);
    tokio::pin!(waiting);
    let early = tokio::time::timeout(std::time::Duration::from_millis(300), &mut waiting).await;
    assert!(early.is_err(), "ran without a turn");
    drop(held);
    let response = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
        .await
        .expect("runs once the turn is free");
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    assert!(response.body.get("errors").is_none(), "{}", response.text);
    assert_eq!(app.gateway.free_execution_turns(), 1, "the turn is given back");
}

/// A caller that keeps every execution turn busy gets others a quick 503, not a queue that
/// lasts until the request timeout.
#[tokio::test]
async fn a_request_that_waits_too_long_for_a_turn_is_answered_503() {
    let app = TestApp::with_flags(&["--graphql-max-concurrency", "1"]).await;
    let _held = app.gateway.execution_turn().await.expect("a free turn");
    let started = std::time::Instant::now();
    let response = app
        .graphql("{ posts(first: 1) { nodes { id } } }", json!({}), None)
        .await;
    assert_eq!(
        response.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        response.text
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(error_code(&response), "UNAVAILABLE");
    assert_eq!(
        response.body["errors"][0]["message"],
        "The server is busy, try again shortly"
    );
    assert!(response.body.get("data").is_none(), "{}", response.text);
    assert_eq!(response.headers["retry-after"], "1");
}
