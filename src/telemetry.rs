//! OpenTelemetry traces over OTLP/HTTP (protobuf), configured by the standard `OTEL_*`
//! variables and off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set.
//!
//! Spans come from `tracing`: the HTTP request (continuing the caller's W3C `traceparent`), the
//! GraphQL operation, each loader batch, each SQL statement and each Redis call. All but the
//! request are DEBUG spans of [`TARGET`], which only the exporter's layer enables: with export
//! off they are never built, so they cost nothing.

use std::sync::OnceLock;

use axum::http::{HeaderMap, Request};
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

/// The target of the spans only the exporter records (operation, loader batch, SQL, Redis).
pub const TARGET: &str = "blog_gateway::trace";

/// The running exporter, flushed and stopped by [`shutdown`].
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Whether the standard variables ask for traces to be exported.
fn export_requested() -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|value| !value.trim().is_empty());
    let disabled = std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
        || std::env::var("OTEL_TRACES_EXPORTER").is_ok_and(|v| v.eq_ignore_ascii_case("none"));
    !disabled && (set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
}

/// The layer that exports this process's spans, when the `OTEL_*` variables ask for it: the
/// endpoint, headers, timeout, service name, resource attributes, sampler and batch settings
/// are read from them by the OpenTelemetry SDK. `None` (nothing exported) otherwise, or when the
/// exporter cannot be built (said on stderr: logging is not up yet).
pub fn layer<S>() -> Option<impl Layer<S>>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    if !export_requested() {
        return None;
    }
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .build()
    {
        Ok(exporter) => exporter,
        Err(error) => {
            eprintln!("OpenTelemetry: traces are not exported, the OTLP exporter failed: {error}");
            return None;
        }
    };
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "blog-gateway".to_owned()))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("blog-gateway");
    let _ = PROVIDER.set(provider);
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let ours = tracing_subscriber::filter::filter_fn(|metadata| {
        metadata.is_span() && metadata.target().starts_with("blog_gateway")
    });
    // No per-span extras the issue does not ask for: busy/idle times (two clock reads at every
    // poll of a span's future), source locations, thread ids and targets are attributes that
    // each span would carry and the exporter would encode. Measured in bench/otel.sh
    // (docs/benchmarks.md): with them, exporting cost 25 % of the feed's throughput.
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_tracked_inactivity(false)
        .with_location(false)
        .with_threads(false)
        .with_target(false)
        // Parents come from tracing's own span tree; activating each span's OpenTelemetry
        // context on every poll of its future is for OpenTelemetry-native instrumentation,
        // which the gateway has none of.
        .with_context_activation(false);
    Some(layer.with_filter(ours))
}

/// Sends the spans still buffered and stops the exporter (at shutdown).
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get()
        && let Err(error) = provider.shutdown()
    {
        tracing::warn!(%error, "OpenTelemetry: the last spans could not be exported");
    }
}

/// Reads W3C trace context from request headers.
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|name| name.as_str()).collect()
    }
}

/// Makes `span` (a request's, with empty `otel.name`, `otel.kind` and `trace_id` fields) a
/// server span named by method and path that continues the caller's `traceparent`, and records
/// the trace id in `trace_id`, so every log line of the request carries it. Nothing (not even
/// the name) when not exporting.
pub fn continue_trace<B>(span: &tracing::Span, request: &Request<B>) {
    if PROVIDER.get().is_none() || span.is_disabled() {
        return;
    }
    span.record(
        "otel.name",
        tracing::field::display(format_args!("{} {}", request.method(), request.uri().path())),
    );
    span.record("otel.kind", "server");
    let parent = TraceContextPropagator::new().extract(&Headers(request.headers()));
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
    if let Some(trace_id) = trace_id_of(span) {
        span.record("trace_id", tracing::field::display(trace_id));
    }
}

fn trace_id_of(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

/// The trace id of the current span, when traces are exported (for an INTERNAL error's
/// `extensions.traceId`, so support can find the trace).
pub fn current_trace_id() -> Option<String> {
    PROVIDER.get()?;
    trace_id_of(&tracing::Span::current())
}

/// A Redis call, in a client span named by its command (`GET`, `EVALSHA`, ...).
pub fn redis<F: std::future::Future>(command: &'static str, call: F) -> tracing::instrument::Instrumented<F> {
    use tracing::Instrument;
    call.instrument(tracing::debug_span!(
        target: TARGET,
        "redis",
        otel.name = command,
        otel.kind = "client",
        db.system.name = "redis",
        db.operation.name = command,
    ))
}

/// The SQL of a statement as diesel renders it, without its bind values (`-- binds: [...]`).
pub fn statement_text(rendered: &str) -> &str {
    rendered.split(" -- binds:").next().unwrap_or(rendered).trim_end()
}

#[cfg(test)]
mod tests {
    #[test]
    fn statement_text_leaves_out_the_values() {
        assert_eq!(
            super::statement_text(
                r#"SELECT "users"."id" FROM "users" WHERE "users"."email" = $1 -- binds: ["ann@example.com"]"#
            ),
            r#"SELECT "users"."id" FROM "users" WHERE "users"."email" = $1"#
        );
        assert_eq!(super::statement_text("BEGIN"), "BEGIN");
    }
}
