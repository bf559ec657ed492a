//! A live OTLP/HTTP trace receiver for the benchmark of exported traces (`bench/otel.sh`): it
//! decodes every `POST /v1/traces` with the OpenTelemetry proto definitions and counts the
//! spans and traces it got; `GET /stats` answers `{"spans", "traces", "spans_per_trace"}` (the
//! most common number of spans in a trace).
//!
//! Usage: cargo run --release --example otlp_sink -- PORT

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{get, post};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

#[derive(Default)]
struct Counts {
    spans: u64,
    per_trace: HashMap<Vec<u8>, u32>,
}

type Shared = Arc<Mutex<Counts>>;

async fn receive(State(counts): State<Shared>, body: Bytes) -> axum::http::StatusCode {
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return axum::http::StatusCode::BAD_REQUEST;
    };
    let mut counts = counts.lock().unwrap();
    for span in request
        .resource_spans
        .into_iter()
        .flat_map(|resource| resource.scope_spans)
        .flat_map(|scope| scope.spans)
    {
        counts.spans += 1;
        *counts.per_trace.entry(span.trace_id).or_default() += 1;
    }
    axum::http::StatusCode::OK
}

async fn stats(State(counts): State<Shared>) -> Json<serde_json::Value> {
    let counts = counts.lock().unwrap();
    let mut sizes: HashMap<u32, u64> = HashMap::new();
    for size in counts.per_trace.values() {
        *sizes.entry(*size).or_default() += 1;
    }
    let mode = sizes
        .into_iter()
        .max_by_key(|(size, n)| (*n, *size))
        .map_or(0, |(size, _)| size);
    Json(serde_json::json!({
        "spans": counts.spans,
        "traces": counts.per_trace.len(),
        "spans_per_trace": mode,
    }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|port| port.parse().ok())
        .expect("usage: otlp_sink PORT");
    let counts = Shared::default();
    let app = axum::Router::new()
        .route("/v1/traces", post(receive))
        .route("/stats", get(stats))
        .with_state(counts);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
