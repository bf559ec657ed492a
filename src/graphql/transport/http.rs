//! `/graphql` over HTTP, as the GraphQL-over-HTTP spec asks: POST (single or batch) and GET
//! (queries only), `application/graphql-response+json` when accepted, 400 for documents refused
//! before execution under that media type (200 under plain JSON), 401/503 when the caller cannot
//! be resolved, and GraphiQL for browsers.

use std::net::IpAddr;

use async_graphql::parser::types::OperationType;
use async_graphql::{Request, Response as GqlResponse};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::digest::same_secret;
use crate::error::{AppError, DocumentRefusal, RequestRejection};
use crate::graphql::admission::selected_operation;
use crate::graphql::graphiql;
use crate::graphql::json;
use crate::graphql::persisted::{self, Submission};
use crate::graphql::pipeline::{Caller, Outcome, refusal_response, run_one};
use crate::graphql::runtime::Gateway;
use crate::http::caller::viewer_from_headers;
use crate::http::client_ip::ClientIp;
use crate::response_cache::{CachedResponse, cache_key};
use crate::state::AppState;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// The header a federation router presents ROUTER_SECRET in.
pub const ROUTER_SECRET_HEADER: &str = "x-router-secret";

/// One operation as a client sends it: GraphQL over HTTP's fields, and the id of a registered
/// document sent instead of its text (`documentId` of the persisted-documents proposal, or
/// Relay's `doc_id`). A `null` is as good as an absent field (Relay sends `"query": null` with
/// its `doc_id`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Operation {
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    operation_name: Option<String>,
    #[serde(default)]
    variables: Option<async_graphql::Variables>,
    #[serde(default)]
    extensions: Option<async_graphql::Extensions>,
    #[serde(default)]
    document_id: Option<String>,
    #[serde(default, rename = "doc_id")]
    doc_id: Option<String>,
}

impl Operation {
    fn new(request: Request, document_id: Option<String>) -> Self {
        Operation {
            query: Some(request.query),
            operation_name: request.operation_name,
            variables: Some(request.variables),
            extensions: Some(request.extensions),
            document_id,
            doc_id: None,
        }
    }

    /// Whether it carries no document in any form.
    fn is_empty(&self) -> bool {
        self.query.as_deref().is_none_or(|query| query.trim().is_empty())
            && !self
                .extensions
                .as_ref()
                .is_some_and(|extensions| extensions.contains_key("persistedQuery"))
            && self.document_id.is_none()
            && self.doc_id.is_none()
    }

    /// The request and the id of its registered document, if it names one. Both `documentId`
    /// and `doc_id` is one id too many: refused.
    fn into_parts(self) -> (Request, Result<Option<String>, DocumentRefusal>) {
        let mut request = Request::new(self.query.unwrap_or_default());
        request.operation_name = self.operation_name;
        request.variables = self.variables.unwrap_or_default();
        request.extensions = self.extensions.unwrap_or_default();
        let id = match (self.document_id, self.doc_id) {
            (Some(_), Some(_)) => Err(DocumentRefusal::DocumentAndId),
            (id, other) => Ok(id.or(other)),
        };
        (request, id)
    }
}

/// A POST body: one operation or a batch (a JSON array).
#[derive(Deserialize)]
#[serde(untagged)]
enum Operations {
    Single(Box<Operation>),
    Batch(Vec<Operation>),
}

/// The response media type the client accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Media {
    GraphqlResponse,
    Json,
}

impl Media {
    fn negotiate(headers: &HeaderMap) -> Self {
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if accept.contains(GRAPHQL_RESPONSE_JSON) {
            Media::GraphqlResponse
        } else {
            Media::Json
        }
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        })
    }

    /// Status for a request refused before execution (parse, validation, limits, variables).
    fn refused_status(self) -> StatusCode {
        match self {
            Media::GraphqlResponse => StatusCode::BAD_REQUEST,
            Media::Json => StatusCode::OK,
        }
    }
}

fn body_response(status: StatusCode, media: Media, body: impl Into<Bytes>) -> Response {
    let body = body.into();
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, media.content_type());
    response
}

/// The answer to a request that never reached execution: an `errors` body, the status of the
/// error (a persisted document that cannot run is a refusal of the document: the media's), and
/// its headers.
fn refusal(error: &AppError, media: Media) -> Response {
    let status = match error {
        AppError::Document(_) => media.refused_status(),
        _ => error.status(),
    };
    let mut response = body_response(status, media, response_body(&refusal_response(error), false));
    error.set_headers(response.headers_mut());
    response
}

/// `POST /graphql`.
pub async fn graphql_post(
    State(gateway): State<Gateway>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let media = Media::negotiate(&headers);
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let rejection = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                RequestRejection::TooLarge {
                    limit: gateway.app().config().graphql_body_limit,
                }
            } else {
                RequestRejection::Unreadable
            };
            return refusal(&AppError::Request(rejection), media);
        }
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.to_ascii_lowercase().starts_with("application/json") {
        return refusal(&AppError::Request(RequestRejection::NotJson), media);
    }
    let batch: Operations = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(e) => {
            let rejection = if e.is_syntax() || e.is_eof() {
                RequestRejection::Malformed(e.to_string())
            } else {
                RequestRejection::NotARequest(e.to_string())
            };
            return refusal(&AppError::Request(rejection), media);
        }
    };
    let without_document = match &batch {
        Operations::Single(operation) => operation.is_empty(),
        Operations::Batch(operations) => operations.iter().any(Operation::is_empty),
    };
    if without_document {
        return refusal(&AppError::Request(RequestRejection::NoDocument), media);
    }
    if let Operations::Batch(requests) = &batch {
        let max = gateway.app().config().graphql_max_batch as usize;
        if requests.len() > max {
            let got = requests.len();
            return refusal(
                &AppError::Request(RequestRejection::BatchTooLarge { max, got }),
                media,
            );
        }
        if requests.is_empty() {
            return refusal(&AppError::Request(RequestRejection::EmptyBatch), media);
        }
    }
    // Boxed: the execution's state (the whole pipeline, several KB) would otherwise be inline in
    // this handler's future, which axum and each middleware layer move as they wrap it: eight
    // copies of it per request were a fifth of a cache hit's instructions.
    Box::pin(execute(gateway, &headers, ip, batch, RequestMethod::Post(media))).await
}

/// `GET /graphql`: GraphiQL for browsers, otherwise a query from the URL (never a mutation).
pub async fn graphql_get(
    State(gateway): State<Gateway>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let media = Media::negotiate(&headers);
    let query = query.unwrap_or_default();
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let request = match request_from_query_string(&query) {
        Ok(Some(request)) => request,
        Ok(None) if wants_html => return graphiql::page(),
        Ok(None) => {
            return refusal(&AppError::Request(RequestRejection::NoDocumentInUrl), media);
        }
        Err(message) => return refusal(&AppError::Request(RequestRejection::BadUrl(message)), media),
    };
    // Boxed, as in `graphql_post`.
    Box::pin(execute(
        gateway,
        &headers,
        ip,
        Operations::Single(Box::new(request)),
        RequestMethod::Get(media),
    ))
    .await
}

/// The method a request came with: GET may only run queries.
#[derive(Clone, Copy)]
enum RequestMethod {
    Get(Media),
    Post(Media),
}

impl RequestMethod {
    fn media(self) -> Media {
        match self {
            RequestMethod::Get(media) | RequestMethod::Post(media) => media,
        }
    }
}

/// Reads `query`, `operationName`, `variables` and `extensions` from a URL (GraphQL over HTTP
/// names; the helper in async-graphql 7.2 expects `operation_name`), and `documentId` or
/// `doc_id`. `None` when no document is named.
fn request_from_query_string(raw: &str) -> Result<Option<Operation>, String> {
    let mut document_id = None;
    let mut query = None;
    let mut operation_name = None;
    let mut variables = None;
    let mut extensions = None;
    for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        match key.as_ref() {
            "query" => query = Some(value.into_owned()),
            "operationName" => operation_name = Some(value.into_owned()).filter(|v| !v.is_empty()),
            "variables" => variables = Some(value.into_owned()).filter(|v| !v.is_empty()),
            "extensions" => extensions = Some(value.into_owned()).filter(|v| !v.is_empty()),
            "documentId" | "doc_id" if document_id.is_some() => {
                return Err("Pass one of `documentId` or `doc_id`, once".to_owned());
            }
            "documentId" | "doc_id" => document_id = Some(value.into_owned()).filter(|v| !v.is_empty()),
            _ => {}
        }
    }
    // A persisted query may come as its hash or id alone.
    let query = match query.filter(|q| !q.trim().is_empty()) {
        Some(query) => query,
        None if extensions.is_some() || document_id.is_some() => String::new(),
        None => return Ok(None),
    };
    let mut request = Request::new(query);
    request.operation_name = operation_name;
    if let Some(variables) = variables {
        let value: serde_json::Value =
            serde_json::from_str(&variables).map_err(|e| format!("`variables` is not JSON: {e}"))?;
        if !value.is_object() {
            return Err("`variables` must be a JSON object".to_owned());
        }
        request.variables = async_graphql::Variables::from_json(value);
    }
    if let Some(extensions) = extensions {
        request.extensions = serde_json::from_str(&extensions)
            .map_err(|e| format!("`extensions` is not a JSON object: {e}"))?;
    }
    Ok(Some(Operation::new(request, document_id)))
}

/// Whether the caller presented ROUTER_SECRET.
fn from_router(state: &AppState, headers: &HeaderMap) -> bool {
    match (
        state.config().router_secret.as_deref(),
        headers.get(ROUTER_SECRET_HEADER),
    ) {
        (Some(secret), Some(given)) => same_secret(secret.as_bytes(), given.as_bytes()),
        _ => false,
    }
}

/// The type of the operation a request would run (`None` when the document does not parse or
/// names no such operation: the executor reports that properly).
fn operation_type(request: &mut Request) -> Option<OperationType> {
    // parsed_query keeps the document in the request: limits and execution reuse it.
    let operation_name = request.operation_name.clone();
    let document = request.parsed_query().ok()?;
    selected_operation(document, operation_name.as_deref()).map(|operation| operation.node.ty)
}

async fn execute(
    gateway: Gateway,
    headers: &HeaderMap,
    ip: IpAddr,
    batch: Operations,
    method: RequestMethod,
) -> Response {
    let state = gateway.app();
    let media = method.media();
    let viewer = match viewer_from_headers(state, headers).await {
        Ok(viewer) => viewer,
        Err(error) => return refusal(&error, media),
    };
    let mut caller = Caller::new(ip, viewer);
    let from_router = from_router(state, headers);
    fn submission(document_id: &Option<String>, from_router: bool) -> Submission<'_> {
        Submission {
            document_id: document_id.as_deref(),
            from_router,
        }
    }
    match batch {
        Operations::Single(operation) => {
            let (mut request, document_id) = operation.into_parts();
            let document_id = match document_id {
                Ok(id) => id,
                Err(refused) => return refusal(&AppError::Document(refused), media),
            };
            let submitted = submission(&document_id, from_router);
            let pending = match persisted::resolve(state, gateway.documents(), &mut request, submitted).await
            {
                Ok(pending) => pending,
                Err(refused) => return refusal(&AppError::Document(refused), media),
            };
            // A kept document (it ran before) tells its operation without being copied into the
            // request, so a cache hit parses and copies nothing (a tenth of its instructions);
            // it is copied in only when the request runs.
            let shared = shares_answers(state, &caller, headers);
            let kept = shared
                .then(|| gateway.parsed_documents().operation_type(&request))
                .flatten();
            let mut new_document = None;
            let operation = match kept {
                Some(operation) => Some(operation),
                None => {
                    new_document = gateway.parsed_documents().attach(&mut request);
                    operation_type(&mut request)
                }
            };
            let mutation = operation == Some(OperationType::Mutation);
            if matches!(method, RequestMethod::Get(_)) && mutation {
                return refusal(&AppError::Request(RequestRejection::MutationOverGet), media);
            }
            // A signed-in caller's answer, or a mutation's (it may carry tokens), is never
            // stored by a browser or a proxy.
            let private = caller.viewer.is_some() || mutation;
            let cache_key = (shared && operation == Some(OperationType::Query))
                .then(|| shared_cache_key(&request))
                .flatten();
            let mut fill = None;
            if let Some(key) = &cache_key {
                let lookup = state.cache().lookup(key).await;
                if let Some(cached) = lookup.found {
                    let mut response = body_response(StatusCode::OK, media, cached.body);
                    response
                        .headers_mut()
                        .insert("x-cache", HeaderValue::from_static("HIT"));
                    return response;
                }
                if lookup.storable {
                    fill = state.begin_fill().await;
                    caller.reads = fill.as_ref().map(|fill| fill.reads.clone());
                }
            }
            if kept.is_some() {
                new_document = gateway.parsed_documents().attach(&mut request);
            }
            let (response, outcome) = run_one(&gateway, &caller, request, new_document, pending).await;
            let Outcome {
                executed,
                busy,
                rate_limit,
            } = outcome;
            let status = match rate_limit {
                Some((decision, _)) if !decision.allowed => StatusCode::TOO_MANY_REQUESTS,
                _ if busy => AppError::Busy.status(),
                _ if executed || response.errors.is_empty() => StatusCode::OK,
                _ => media.refused_status(),
            };
            let body = response_body(&response, executed);
            if let (Some(key), Some(fill), true) = (&cache_key, fill, executed && response.errors.is_empty())
            {
                let cached = CachedResponse {
                    status: 200,
                    content_type: "application/json".to_owned(),
                    body: Bytes::from(body.clone()),
                };
                state.cache().finish(fill, key, &cached).await;
            }
            let mut http = body_response(status, media, body);
            if private {
                http.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
            if busy {
                AppError::Busy.set_headers(http.headers_mut());
            }
            if cache_key.is_some() {
                http.headers_mut()
                    .insert("x-cache", HeaderValue::from_static("MISS"));
            }
            if let Some((decision, quota)) = rate_limit {
                decision.set_headers(quota, http.headers_mut());
            }
            http
        }
        Operations::Batch(operations) => {
            let mut responses = Vec::with_capacity(operations.len());
            for operation in operations {
                let (mut request, document_id) = operation.into_parts();
                let document_id = match document_id {
                    Ok(id) => id,
                    Err(refused) => {
                        responses.push(refusal_response(&AppError::Document(refused)));
                        continue;
                    }
                };
                let submitted = submission(&document_id, from_router);
                let pending =
                    match persisted::resolve(state, gateway.documents(), &mut request, submitted).await {
                        Ok(pending) => pending,
                        Err(refused) => {
                            responses.push(refusal_response(&AppError::Document(refused)));
                            continue;
                        }
                    };
                let new_document = gateway.parsed_documents().attach(&mut request);
                let (response, _) = run_one(&gateway, &caller, request, new_document, pending).await;
                responses.push(response);
            }
            let body = json::batch_to_vec(&responses);
            let mut http = body_response(StatusCode::OK, media, body);
            // Batches may mix anything: never stored.
            http.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            http
        }
    }
}

/// Whether the answer to this caller may come from and go to the shared cache: anonymous, and
/// the cache is on.
fn shares_answers(state: &AppState, caller: &Caller, headers: &HeaderMap) -> bool {
    state.cache_reads() && caller.viewer.is_none() && !headers.contains_key(header::AUTHORIZATION)
}

/// The shared-cache key of an anonymous query (the caller passes queries only: never a
/// mutation or a subscription; never for a signed-in caller): a hash of the document as sent,
/// operation name and variables. Never a
/// lossy rewrite of the text: collapsing whitespace made `"a  b"` and `"a b"` (inside string
/// literals) one entry, so one client could fill the answer another then read.
fn shared_cache_key(request: &Request) -> Option<String> {
    let variables = serde_json::to_vec(&request.variables).ok()?;
    let operation = request.operation_name.as_deref().unwrap_or("");
    Some(cache_key(&[
        b"graphql",
        request.query.as_bytes(),
        operation.as_bytes(),
        &variables,
    ]))
}

/// The JSON of an answer. A request that never executed has no `data` entry at all (as the
/// GraphQL-over-HTTP spec asks), only `errors`.
fn response_body(response: &GqlResponse, executed: bool) -> Vec<u8> {
    if executed {
        json::response_to_vec(response)
    } else {
        serde_json::to_vec(&serde_json::json!({ "errors": response.errors })).unwrap_or_default()
    }
}
