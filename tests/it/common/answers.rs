//! Every GraphQL answer a test receives, checked against the GraphQL spec (`checker.rs`).

use serde_json::{Value, json};

use super::app::TestResponse;

/// Which schema a server serves: the public one, or the one with Apollo Federation's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    Public,
    Federated,
}

/// The served schema as the checker reads it: `schema.graphql` (never the server's registry);
/// with FEDERATION=true, that schema plus federation's `_service`, `_entities`, `_Any`,
/// `_Entity` and `_Service`, from the SDL a `FEDERATION=true` build exports.
fn served_schema(served: Served) -> &'static crate::checker::Schema {
    static PUBLIC: std::sync::OnceLock<crate::checker::Schema> = std::sync::OnceLock::new();
    static FEDERATED: std::sync::OnceLock<crate::checker::Schema> = std::sync::OnceLock::new();
    match served {
        Served::Public => PUBLIC.get_or_init(|| {
            let sdl = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
                .expect("schema.graphql");
            crate::checker::Schema::parse(&sdl).expect("schema.graphql parses")
        }),
        Served::Federated => FEDERATED.get_or_init(|| {
            let config = super::test_config("postgres://localhost/unused", &["--federation", "true"]);
            let sdl = blog_gateway::graphql::build_schema(&config)
                .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by());
            crate::checker::Schema::parse(&sdl).expect("the federated schema parses")
        }),
    }
}

/// Every GraphQL answer the tests receive through the helpers goes through the response checker
/// (`checker.rs`): a valid execution result by the spec for its document and variables. Answers
/// that are not GraphQL results (an HTTP refusal in another shape, a persisted query sent by hash
/// alone, whose text the test does not hold) are left to the test itself.
pub fn check_answer(served: Served, request: &Value, response: &TestResponse) {
    match (request, &response.body) {
        (Value::Array(requests), Value::Array(_)) => {
            let answers: Vec<Value> = serde_json::from_str(&response.text).unwrap_or_default();
            for (request, answer) in requests.iter().zip(answers) {
                check_one(served, request, &answer.to_string(), &response.text);
            }
        }
        (Value::Object(_), Value::Object(_)) => check_one(served, request, &response.text, &response.text),
        _ => {}
    }
}

pub(super) fn check_get_answer(served: Served, path: &str, response: &TestResponse) {
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
        check_one(served, &Value::Object(request), &response.text, &response.text);
    }
}

fn check_one(served: Served, request: &Value, answer: &str, whole: &str) {
    let Some(document) = request.get("query").and_then(Value::as_str) else {
        return;
    };
    let variables = match request.get("variables") {
        Some(Value::Object(vars)) => Value::Object(vars.clone()),
        _ => json!({}),
    };
    let operation = request.get("operationName").and_then(Value::as_str);
    if let Err(problems) =
        crate::checker::check_response_text(served_schema(served), document, operation, &variables, answer)
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
