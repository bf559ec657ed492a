//! OpenTelemetry: the real binary exports its traces over OTLP/HTTP to a receiver in this test,
//! which decodes them with the OpenTelemetry proto definitions. One GraphQL request sent with a
//! W3C `traceparent` must come back as a span tree in the caller's trace: HTTP request ->
//! GraphQL operation -> loader batch -> SQL statement, with Redis calls, and the trace id in the
//! request's JSON log lines.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::routing::post;
use blog_gateway::db::models::Role;
use blog_gateway::digest::sha256_hex;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::json;

use crate::common::{RedisPrefix, TestApp, binary, bulk_posts, free_port, http, redis_url};

/// The trace and parent span the caller sends in `traceparent`.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN_ID: &str = "00f067aa0ba902b7";

/// Spans an OTLP/HTTP receiver got, decoded.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Span>>>);

impl Received {
    fn of_trace(&self, trace_id: &[u8]) -> Vec<Span> {
        let spans = self.0.lock().unwrap();
        spans.iter().filter(|s| s.trace_id == trace_id).cloned().collect()
    }
}

/// An OTLP/HTTP trace receiver on a free port: `POST /v1/traces` with a protobuf body.
async fn receiver() -> (String, Received) {
    let received = Received::default();
    let store = received.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let store = store.clone();
            async move {
                let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf trace export");
                let mut spans = store.0.lock().unwrap();
                for resource in request.resource_spans {
                    for scope in resource.scope_spans {
                        spans.extend(scope.spans);
                    }
                }
                ([("content-type", "application/x-protobuf")], Vec::<u8>::new())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{address}"), received)
}

/// The real server, exporting to `endpoint`; killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| match a.value.as_ref()?.value.as_ref()? {
            AnyValue::StringValue(text) => Some(text.clone()),
            AnyValue::IntValue(n) => Some(n.to_string()),
            AnyValue::BoolValue(b) => Some(b.to_string()),
            other => Some(format!("{other:?}")),
        })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test]
async fn one_request_is_one_span_tree_in_the_callers_trace() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    bulk_posts(&app, &[ann.id], 5, 3).await;
    let (endpoint, received) = receiver().await;
    let prefix = RedisPrefix::new();
    let port = free_port();
    let mut child = binary()
        .arg("serve")
        .env("DATABASE_URL", &app.db.url)
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("APP_ENV", "test")
        .env("JWT_SECRET", "test-secret-test-secret-test-secret!")
        .env("REDIS_URL", redis_url())
        .env("REDIS_PREFIX", &prefix.0)
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info,tower_http=debug")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env("OTEL_TRACES_SAMPLER", "always_on")
        .env("OTEL_BSP_SCHEDULE_DELAY", "50")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the server starts");
    let stdout = child.stdout.take().unwrap();
    let _server = Server(child);
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(60);
    while tokio::net::TcpStream::connect(address).await.is_err() {
        assert!(Instant::now() < deadline, "the server did not listen within 60 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let query = "query Feed($first: Int!) { posts(first: $first) { nodes { title author { username } comments(first: 2) { nodes { content } } } } }";
    let traceparent = format!("00-{TRACE_ID}-{PARENT_SPAN_ID}-01");
    let request = json!({ "query": query, "operationName": "Feed", "variables": { "first": 3 } }).to_string();
    let (status, body) = tokio::task::spawn_blocking(move || {
        http(
            address,
            "POST",
            "/graphql",
            &[("traceparent", &traceparent)],
            Some(&request),
        )
    })
    .await
    .unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("\"errors\""), "{body}");

    // The batch exporter sends within its schedule delay; wait for the SQL spans of the loaders.
    let trace = unhex(TRACE_ID);
    let deadline = Instant::now() + Duration::from_secs(15);
    let spans = loop {
        let spans = received.of_trace(&trace);
        let batches = spans.iter().filter(|s| s.name.ends_with("Loader")).count();
        if batches >= 2 && spans.iter().any(|s| s.name == "POST /graphql") {
            break spans;
        }
        assert!(
            Instant::now() < deadline,
            "no complete trace within 15 s; got {spans:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let by_id = |id: &[u8]| spans.iter().find(|s| s.span_id == id);
    let http = spans.iter().find(|s| s.name == "POST /graphql").unwrap();
    assert_eq!(
        hex(&http.parent_span_id),
        PARENT_SPAN_ID,
        "the request continues the caller's span"
    );
    let operation = spans
        .iter()
        .find(|s| attribute(s, "graphql.operation.type").is_some())
        .unwrap_or_else(|| panic!("no operation span in {spans:#?}"));
    assert_eq!(operation.name, "query Feed");
    assert_eq!(
        operation.parent_span_id, http.span_id,
        "the operation is the request's child"
    );
    assert_eq!(
        attribute(operation, "graphql.operation.name").as_deref(),
        Some("Feed")
    );
    assert_eq!(
        attribute(operation, "graphql.document.hash"),
        Some(sha256_hex(query))
    );
    assert!(attribute(operation, "graphql.cost").is_some(), "{operation:?}");
    let batches: Vec<&Span> = spans.iter().filter(|s| s.name.ends_with("Loader")).collect();
    for batch in &batches {
        assert_eq!(
            batch.parent_span_id, operation.span_id,
            "{} is the operation's child",
            batch.name
        );
        let statements: Vec<&Span> = spans
            .iter()
            .filter(|s| s.parent_span_id == batch.span_id)
            .collect();
        assert!(!statements.is_empty(), "{} ran no statement under it", batch.name);
        for statement in statements {
            let text = attribute(statement, "db.query.text").unwrap();
            assert!(text.starts_with("SELECT") || text.starts_with("WITH"), "{text}");
            assert!(
                !text.contains("binds"),
                "values left in the statement text: {text}"
            );
            assert_eq!(
                attribute(statement, "db.system.name").as_deref(),
                Some("postgresql")
            );
        }
    }
    assert!(
        batches.iter().any(|b| b.name == "UserBylineLoader")
            && batches.iter().any(|b| b.name == "PostCommentsLoader"),
        "{:?}",
        batches.iter().map(|b| &b.name).collect::<Vec<_>>()
    );
    // Every span of the request is in the tree under the request.
    for span in &spans {
        let mut at = span;
        while at.span_id != http.span_id {
            at = by_id(&at.parent_span_id)
                .unwrap_or_else(|| panic!("{} is outside the request's tree", span.name));
        }
    }
    // The rate limiter's Redis call is a client span of the request.
    assert!(
        spans
            .iter()
            .any(|s| attribute(s, "db.system.name").as_deref() == Some("redis")),
        "no Redis span in {:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    // Nothing the client sent as a variable is in any span.
    for span in &spans {
        for attribute in &span.attributes {
            assert!(
                !format!("{:?}", attribute.value).contains("\"first\""),
                "{attribute:?}"
            );
        }
    }
    // The request's log lines carry the trace id.
    let logged = lines.lock().unwrap().clone();
    let of_request: Vec<&String> = logged
        .iter()
        .filter(|l| l.contains("processing request"))
        .collect();
    assert!(!of_request.is_empty(), "no request log lines in {logged:#?}");
    for line in of_request {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(value["span"]["trace_id"], json!(TRACE_ID), "{line}");
    }
}
