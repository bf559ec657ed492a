//! Middleware on every route: request ids, tracing spans, CORS, security headers, compression
//! and timeouts.

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, Request, StatusCode, header};
use axum::response::Response;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::{AppEnv, Config};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The Content-Security-Policy: same-origin everything, which is what the embedded GraphiQL needs
/// (its stylesheet inlines fonts as data: URLs and it sets inline styles).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
                   frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

/// The headers Apollo Client and urql add to their requests.
const CLIENT_HEADERS: [HeaderName; 3] = [
    HeaderName::from_static("apollographql-client-name"),
    HeaderName::from_static("apollographql-client-version"),
    HeaderName::from_static("apollo-require-preflight"),
];

fn cors(config: &Config) -> CorsLayer {
    let listed: Vec<HeaderValue> = config
        .allowed_origins
        .0
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    // A front end under development runs on whatever port its tool picked (Vite 5173, Next
    // 3000, ...): in development every local origin may call, in production only the list.
    let any_local = config.app_env == AppEnv::Development;
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            listed.contains(origin) || (any_local && is_local_origin(origin))
        }))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            REQUEST_ID,
            CLIENT_HEADERS[0].clone(),
            CLIENT_HEADERS[1].clone(),
            CLIENT_HEADERS[2].clone(),
        ])
        .expose_headers([REQUEST_ID, header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

/// An http(s) origin on `localhost`, `127.0.0.1` or `[::1]`, any port, written as a browser
/// writes an origin (nothing before or after it).
fn is_local_origin(origin: &HeaderValue) -> bool {
    let Some(url) = origin.to_str().ok().and_then(|text| url::Url::parse(text).ok()) else {
        return false;
    };
    let local = match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost",
        Some(url::Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
        Some(url::Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        None => false,
    };
    local
        && matches!(url.scheme(), "http" | "https")
        && url.origin().ascii_serialization().as_bytes() == origin.as_bytes()
}

/// The headers helmet set on every legacy response.
const SECURITY_HEADERS: [(HeaderName, &str); 8] = [
    (header::CONTENT_SECURITY_POLICY, CSP),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
    (header::REFERRER_POLICY, "no-referrer"),
    (
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=15552000; includeSubDomains",
    ),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
    (
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    ),
    (HeaderName::from_static("x-dns-prefetch-control"), "off"),
];

/// Sets each of [`SECURITY_HEADERS`] a response does not set itself. One layer for all eight:
/// a layer per header (`SetResponseHeaderLayer`) wrapped every route eight times over, and each
/// request cloned and polled every wrapper (a tenth of a cached answer's instructions).
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

/// Wraps the application router in the shared middleware stack.
pub fn apply(router: Router, config: &Config) -> Router {
    let trace = TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
        let request_id = request
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        let span = tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.uri().path(),
            request_id = %request_id,
            otel.name = tracing::field::Empty,
            otel.kind = tracing::field::Empty,
            trace_id = tracing::field::Empty,
        );
        crate::telemetry::continue_trace(&span, request);
        span
    });
    let router = router
        .layer(axum::middleware::map_response(security_headers))
        .layer(CompressionLayer::new())
        .layer(cors(config))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(config.request_timeout_secs),
        ));
    // Outermost last: the id is set before the span is made and copied onto the response.
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(trace)
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}
