//! The OpenAPI document: every routed path and method is in it with a response schema, and real
//! answers validate against it.

use axum::http::{Method, StatusCode};
use blog_gateway::db::models::Role;
use serde_json::{Value, json};

use crate::common::{TestApp, TestResponse};

/// Every route of the REST router, with the statuses it answers on success.
const ROUTES: &[(&str, &str, &str)] = &[
    ("get", "/api/health", "200"),
    ("get", "/api/openapi.json", "200"),
    ("post", "/api/auth/register", "201"),
    ("post", "/api/auth/login", "200"),
    ("post", "/api/auth/refresh", "200"),
    ("post", "/api/auth/refresh-token", "200"),
    ("post", "/api/auth/logout", "200"),
    ("get", "/api/posts", "200"),
    ("post", "/api/posts", "201"),
    ("get", "/api/posts/popular", "200"),
    ("get", "/api/posts/{id}", "200"),
    ("put", "/api/posts/{id}", "200"),
    ("delete", "/api/posts/{id}", "200"),
    ("post", "/api/posts/{id}/comments", "201"),
    ("delete", "/api/posts/{id}/comments/{comment_id}", "200"),
    ("post", "/api/posts/{id}/like", "200"),
    ("delete", "/api/posts/{id}/like", "200"),
    ("get", "/api/users", "200"),
    ("get", "/api/users/me", "200"),
    ("get", "/api/users/{id}", "200"),
    ("put", "/api/users/{id}", "200"),
];

fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            resolve(document, &document["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// A small JSON-schema check covering what the document uses: $ref, allOf, oneOf, type (also as
/// a list with "null"), properties, required, items, enum.
fn validate(document: &Value, schema: &Value, value: &Value, path: &str, problems: &mut Vec<String>) {
    let schema = resolve(document, schema);
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for part in all {
            validate(document, part, value, path, problems);
        }
    }
    if let Some(any) = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        let fits = any.iter().any(|option| {
            let mut inner = Vec::new();
            validate(document, option, value, path, &mut inner);
            inner.is_empty()
        });
        if !fits {
            problems.push(format!("{path}: matches none of oneOf"));
        }
    }
    if let Some(types) = schema.get("type") {
        let allowed: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let ok = allowed.contains(&actual) || (actual == "integer" && allowed.contains(&"number"));
        if !ok {
            problems.push(format!("{path}: {actual} where the document says {allowed:?}"));
            return;
        }
    }
    if let (Some(values), false) = (schema.get("enum").and_then(Value::as_array), value.is_null()) {
        if !values.contains(value) {
            problems.push(format!("{path}: {value} is not one of {values:?}"));
        }
    }
    if let Value::Object(map) = value {
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = required.as_str().unwrap();
            if !map.contains_key(key) {
                problems.push(format!("{path}: missing required {key}"));
            }
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (key, property) in properties {
                if let Some(inner) = map.get(key) {
                    validate(document, property, inner, &format!("{path}.{key}"), problems);
                }
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            validate(document, item_schema, item, &format!("{path}[{i}]"), problems);
        }
    }
}

fn assert_conforms(document: &Value, method: &str, path: &str, response: &TestResponse) {
    let status = response.status.as_u16().to_string();
    let schema =
        &document["paths"][path][method]["responses"][&status]["content"]["application/json"]["schema"];
    assert!(
        !schema.is_null(),
        "{method} {path} documents no schema for {status}"
    );
    let mut problems = Vec::new();
    validate(document, schema, &response.body, "$", &mut problems);
    assert!(
        problems.is_empty(),
        "{method} {path} {status}: {problems:#?}\n{}",
        response.text
    );
}

#[tokio::test]
async fn every_route_is_documented_with_response_schemas() {
    let app = TestApp::new().await;
    let response = app.get("/api/openapi.json", None).await;
    assert_eq!(response.status, StatusCode::OK);
    let document = response.body;
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    for (method, path, success) in ROUTES {
        let operation = &document["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is missing");
        let responses = operation["responses"].as_object().unwrap();
        assert!(
            responses.contains_key(*success),
            "{method} {path} lacks {success}"
        );
        for (status, response) in responses {
            let schema = &response["content"]["application/json"]["schema"];
            assert!(
                schema.is_object() && !schema.as_object().unwrap().is_empty(),
                "{method} {path} {status}: no schema"
            );
        }
        if *path != "/api/health" && *path != "/api/openapi.json" {
            for status in ["400", "401", "404", "429", "500", "503"] {
                assert!(responses.contains_key(status), "{method} {path} lacks {status}");
            }
        }
    }
    let documented: usize = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented,
        ROUTES.len(),
        "no undocumented extras and nothing missing"
    );
}

#[tokio::test]
async fn real_answers_validate_against_the_document() {
    let app = TestApp::new().await;
    let document = app.get("/api/openapi.json", None).await.body;
    let admin = app.user("root", Role::Admin).await;
    let login = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({ "email": "root@example.com", "password": crate::common::PASSWORD })),
        )
        .await;
    assert_conforms(&document, "post", "/api/auth/login", &login);
    let created = app
        .call(Method::POST, "/api/posts", Some(&admin.token), Some(json!({ "title": "Documented post", "content": "Content that is long enough", "category": "education", "isPublished": true })))
        .await;
    assert_conforms(&document, "post", "/api/posts", &created);
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let comment = app
        .call(
            Method::POST,
            &format!("/api/posts/{id}/comments"),
            Some(&admin.token),
            Some(json!({ "content": "A comment" })),
        )
        .await;
    assert_conforms(&document, "post", "/api/posts/{id}/comments", &comment);
    let checks = [
        ("get", "/api/posts", app.get("/api/posts", None).await),
        (
            "get",
            "/api/posts/{id}",
            app.get(&format!("/api/posts/{id}"), None).await,
        ),
        (
            "get",
            "/api/posts/popular",
            app.get("/api/posts/popular", None).await,
        ),
        (
            "get",
            "/api/users/me",
            app.get("/api/users/me", Some(&admin.token)).await,
        ),
        (
            "get",
            "/api/users",
            app.get("/api/users", Some(&admin.token)).await,
        ),
        ("get", "/api/health", app.get("/api/health", None).await),
        (
            "post",
            "/api/posts/{id}/like",
            app.call(
                Method::POST,
                &format!("/api/posts/{id}/like"),
                Some(&admin.token),
                None,
            )
            .await,
        ),
        ("get", "/api/posts", app.get("/api/posts?limit=1000", None).await),
        (
            "post",
            "/api/posts",
            app.call(
                Method::POST,
                "/api/posts",
                Some(&admin.token),
                Some(json!({ "title": "x" })),
            )
            .await,
        ),
        ("get", "/api/users/me", app.get("/api/users/me", None).await),
    ];
    for (method, path, response) in checks {
        assert_conforms(&document, method, path, &response);
    }
}
