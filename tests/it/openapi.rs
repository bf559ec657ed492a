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
    ("get", "/api/posts/by-slug/{slug}", "200"),
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
    let slug = created.body["data"]["slug"].as_str().unwrap().to_owned();
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
            "/api/posts/by-slug/{slug}",
            app.get(&format!("/api/posts/by-slug/{slug}"), None).await,
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

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every operation of the document, as (method, path, operation), with the parameters of its
/// path item and its own.
fn operations(document: &Value) -> Vec<(&str, &str, &Value, Vec<&Value>)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(operation) = item.get(*method) {
                let parameters = [&item["parameters"], &operation["parameters"]]
                    .into_iter()
                    .filter_map(Value::as_array)
                    .flatten()
                    .map(|p| resolve_parameter(document, p))
                    .collect();
                found.push((*method, path.as_str(), operation, parameters));
            }
        }
    }
    found
}

fn resolve_parameter<'a>(document: &'a Value, parameter: &'a Value) -> &'a Value {
    match parameter.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/parameters/");
            &document["components"]["parameters"][name]
        }
        None => parameter,
    }
}

/// What breaks generated clients: an operation without an operationId or with one another
/// operation has too (openapi-typescript makes each a key of `operations`: TS2300 duplicate
/// identifier), and an id in a path (`id`, `comment_id`, ...) not declared a UUID.
fn client_problems(document: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut owners: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
    for (method, path, operation, parameters) in operations(document) {
        let label = format!("{} {path}", method.to_uppercase());
        match operation["operationId"].as_str() {
            None => problems.push(format!("{label} has no operationId")),
            Some(id) => {
                if let Some(first) = owners.insert(id, label.clone()) {
                    problems.push(format!("operationId {id:?} is used by {first} and {label}"));
                }
            }
        }
        for parameter in parameters {
            let name = parameter["name"].as_str().unwrap_or("");
            if parameter["in"] != "path" || !(name == "id" || name.ends_with("_id") || name.ends_with("Id")) {
                continue;
            }
            let schema = resolve(document, &parameter["schema"]);
            if schema["type"] != "string" || schema["format"] != "uuid" {
                problems.push(format!(
                    "{label}: path parameter {name} is not declared `type: string, format: uuid`: {schema}"
                ));
            }
        }
    }
    problems
}

#[tokio::test]
async fn operation_ids_are_unique_and_path_ids_are_uuids() {
    let app = TestApp::new().await;
    let document = app.get("/api/openapi.json", None).await.body;
    let problems = client_problems(&document);
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(
        document["paths"]["/api/posts/{id}/comments/{comment_id}"]["delete"]["parameters"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // The check itself: each kind of problem is caught.
    let mut shared = document.clone();
    shared["paths"]["/api/users/{id}"]["get"]["operationId"] = json!("getPost");
    let problems = client_problems(&shared);
    assert!(
        problems.len() == 1 && problems[0].contains("\"getPost\" is used by"),
        "{problems:#?}"
    );
    let mut unnamed = document.clone();
    unnamed["paths"]["/api/health"]["get"]
        .as_object_mut()
        .unwrap()
        .remove("operationId");
    assert_eq!(client_problems(&unnamed), ["GET /api/health has no operationId"]);
    for (path, method, index) in [
        ("/api/posts/{id}", "put", 0),
        ("/api/posts/{id}/comments/{comment_id}", "delete", 1),
        ("/api/users/{id}", "get", 0),
    ] {
        let mut loose = document.clone();
        loose["paths"][path][method]["parameters"][index]["schema"] = json!({ "type": "string" });
        let problems = client_problems(&loose);
        assert!(
            problems.len() == 1 && problems[0].contains("is not declared `type: string, format: uuid`"),
            "{method} {path}: {problems:#?}"
        );
    }
}

fn parameter<'a>(document: &'a Value, path: &str, method: &str, name: &str) -> &'a Value {
    document["paths"][path][method]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{method} {path} has no parameter {name}"))
}

fn strings(values: &Value) -> Vec<&str> {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

/// The request rules the server enforces are in the document, from the same constants.
#[tokio::test]
async fn the_document_states_the_request_rules() {
    use blog_gateway::db::models::Category;
    use blog_gateway::domain::page::MAX_PAGE_SIZE as MAX_LIMIT;
    use blog_gateway::rest::openapi::OPTIONAL_BODIES;
    use blog_gateway::rest::query::{LEGACY_SORTS, MAX_PAGE};

    let app = TestApp::new().await;
    let document = app.get("/api/openapi.json", None).await.body;
    let schemas = &document["components"]["schemas"];

    for (path, name, max) in [
        ("/api/posts", "page", MAX_PAGE),
        ("/api/posts", "limit", MAX_LIMIT),
        ("/api/users", "page", MAX_PAGE),
        ("/api/users", "limit", MAX_LIMIT),
        ("/api/posts/popular", "limit", MAX_LIMIT),
    ] {
        let schema = &parameter(&document, path, "get", name)["schema"];
        assert_eq!(schema["type"], "integer", "{path} {name}");
        assert_eq!(schema["minimum"], 1, "{path} {name}");
        assert_eq!(schema["maximum"], max, "{path} {name}");
    }
    // `?page=` reads as no page, as express read it.
    for (method, path, _, parameters) in operations(&document) {
        for parameter in parameters.iter().filter(|p| p["in"] == "query") {
            assert_eq!(
                parameter["allowEmptyValue"], true,
                "{method} {path} {}",
                parameter["name"]
            );
        }
    }

    let sort = resolve(
        &document,
        &parameter(&document, "/api/posts", "get", "sort")["schema"],
    );
    let labels: Vec<&str> = LEGACY_SORTS.iter().map(|(label, _)| *label).collect();
    assert_eq!(strings(&sort["enum"]), labels);
    assert_eq!(labels[0], "-createdAt");
    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    let category = resolve(
        &document,
        &parameter(&document, "/api/posts", "get", "category")["schema"],
    );
    assert_eq!(strings(&category["enum"]), categories);
    let role = resolve(
        &document,
        &parameter(&document, "/api/users", "get", "role")["schema"],
    );
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(strings(&role["enum"]), roles);
    let listed = &schemas["Paged_PostItem_AuthorSummary"]["properties"]["data"]["items"];
    for (name, schema) in [
        ("CreatePostBody", &schemas["CreatePostBody"]),
        ("UpdatePostBody", &schemas["UpdatePostBody"]),
        ("PostItem_AuthorDetail", &schemas["PostItem_AuthorDetail"]),
        ("a listed post", listed),
    ] {
        let text = schema["properties"]["category"].to_string();
        assert!(text.contains("#/components/schemas/Category"), "{name}: {text}");
    }
    let author = &parameter(&document, "/api/posts", "get", "author")["schema"];
    assert_eq!(author["format"], "uuid");

    // What a create needs.
    for (schema, required) in [
        ("RegisterBody", vec!["username", "email", "password"]),
        ("LoginBody", vec!["email", "password"]),
        ("RefreshBody", vec!["refreshToken"]),
        ("CreatePostBody", vec!["title", "content", "category"]),
        ("CommentBody", vec!["content"]),
    ] {
        assert_eq!(strings(&schemas[schema]["required"]), required, "{schema}");
        for field in required {
            let property = resolve(&document, &schemas[schema]["properties"][field]);
            assert!(
                property["type"] == "string" || property["enum"].is_array(),
                "{schema}.{field} is a non-null string: {property}"
            );
        }
    }
    for schema in ["UpdatePostBody", "UserUpdateBody", "LogoutBody", "ProfileBody"] {
        assert!(schemas[schema]["required"].is_null(), "{schema} requires nothing");
    }
    let username = &schemas["RegisterBody"]["properties"]["username"];
    assert_eq!(username["minLength"], 3);
    assert!(
        username["pattern"].as_str().unwrap().contains("{1,28}"),
        "{username}"
    );
    assert_eq!(schemas["CommentBody"]["properties"]["content"]["minLength"], 1);
    assert_eq!(schemas["CreatePostBody"]["properties"]["tags"]["maxItems"], 10);

    // A missing body is fine exactly where the server reads `{}` as a request it takes.
    for (method, path, operation, _) in operations(&document) {
        let Some(body) = operation.get("requestBody") else {
            continue;
        };
        let id = operation["operationId"].as_str().unwrap();
        let optional = OPTIONAL_BODIES.contains(&id);
        assert_eq!(body["required"], !optional, "{method} {path}");
        assert!(
            body["content"]["application/json"]["schema"]["$ref"].is_string(),
            "{method} {path}: a body is an object, never null"
        );
    }
}
