//! The REST side of the response cache: anonymous GETs are answered from the shared cache, every
//! GET answer carries an ETag (If-None-Match gives 304), and every write invalidates the cache
//! before it is answered.

use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::domain::changes::TagSet;
use crate::http::caller::token_subject;
use crate::http::health;
use crate::response_cache::{CachedResponse, cache_key};
use crate::state::AppState;

/// Largest answer buffered for an ETag or the cache.
const MAX_BUFFERED: usize = 16 * 1024 * 1024;

/// `GET /api/posts/:id` and `GET /api/posts/by-slug/:slug` count a view: they are never served
/// from the shared cache.
fn counts_a_view(path: &str) -> bool {
    path.strip_prefix("/api/posts/").is_some_and(|rest| {
        let detail = !rest.is_empty() && !rest.contains('/') && rest != "popular";
        let by_slug = rest
            .strip_prefix("by-slug/")
            .is_some_and(|slug| !slug.is_empty() && !slug.contains('/'));
        detail || by_slug
    })
}

fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", cache_key(&[body]))
}

fn not_modified(request_etag: Option<&HeaderValue>, etag: &str) -> bool {
    request_etag.and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(',')
            .any(|candidate| candidate.trim().trim_start_matches("W/") == etag || candidate.trim() == "*")
    })
}

fn answer(cached: CachedResponse, request_etag: Option<&HeaderValue>, from_cache: bool) -> Response {
    let etag = etag_of(&cached.body);
    let mut response = if not_modified(request_etag, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Response::new(Body::from(cached.body));
        *response.status_mut() = StatusCode::from_u16(cached.status).unwrap_or(StatusCode::OK);
        if let Ok(value) = HeaderValue::from_str(&cached.content_type) {
            response.headers_mut().insert(header::CONTENT_TYPE, value);
        }
        response
    };
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response.headers_mut().insert(
        "x-cache",
        HeaderValue::from_static(if from_cache { "HIT" } else { "MISS" }),
    );
    response
}

pub async fn rest_cache(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let uri = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().clone(), |u| u.0.clone());
    let path = uri.path().to_owned();
    if request.method() != Method::GET {
        // The write succeeded only if its token was valid: its subject is the writer.
        let writer = token_subject(&state, request.headers());
        // The service layer adds what each write it committed changed (a login, a view or a
        // refused request change nothing).
        let changed = TagSet::default();
        let mut request = request;
        request.extensions_mut().insert(changed.clone());
        let response = next.run(request).await;
        state.after_write(writer, &changed.snapshot()).await;
        return response;
    }
    let request_etag = request.headers().get(header::IF_NONE_MATCH).cloned();
    let shared = state.cache_reads()
        && !request.headers().contains_key(header::AUTHORIZATION)
        && path != health::PATH
        && !counts_a_view(&path);
    let key = cache_key(&[b"rest", uri.to_string().as_bytes()]);
    let mut fill = None;
    let mut request = request;
    if shared {
        let lookup = state.cache().lookup(&key).await;
        if let Some(cached) = lookup.found {
            return answer(cached, request_etag.as_ref(), true);
        }
        if lookup.storable {
            // The handler reads where the fill read its position (`ReplicaReads`).
            fill = state.begin_fill().await;
            if let Some(fill) = &fill {
                request.extensions_mut().insert(fill.reads.clone());
            }
        }
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BUFFERED).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let cached = CachedResponse {
        status: 200,
        content_type,
        body: Bytes::clone(&bytes),
    };
    if let Some(fill) = fill {
        state.cache().finish(fill, &key, &cached).await;
    }
    let mut fresh = answer(cached, request_etag.as_ref(), false);
    for (name, value) in &parts.headers {
        if !fresh.headers().contains_key(name) {
            fresh.headers_mut().insert(name.clone(), value.clone());
        }
    }
    if !shared {
        fresh.headers_mut().remove("x-cache");
    }
    fresh
}
