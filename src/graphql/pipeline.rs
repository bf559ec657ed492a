//! The one execution pipeline of GraphQL operations. The transports (`http`: POST, GET and
//! batches; `ws`: graphql-transport-ws) decode their requests, resolve the caller and encode the
//! answers; every rule between (limits, cost, rate limit, execution turn, execution, cache
//! invalidation, metrics) is applied here, so a transport cannot skip one.

use std::net::IpAddr;

use async_graphql::{Request, Response as GqlResponse, ServerError};
use futures_util::stream::{BoxStream, StreamExt};

use tracing::Instrument;

use super::admission::{RateLimitKey, prepare, selected_operation};
use super::batch::BatchQueue;
use super::context::{RequestViewer, ResponseBudget};
use super::loaders::Loaders;
use super::parsed::NewDocument;
use super::persisted::Pending;
use super::runtime::Gateway;
use crate::db::replicas::Reads;
use crate::digest::sha256_hex;
use crate::domain::changes::TagSet;
use crate::domain::viewer::Viewer;
use crate::error::{AppError, label_argument_errors, label_refusals};
use crate::http::client_ip::ClientIp;
use crate::ratelimit::{Decision, Quota};
use crate::telemetry;

/// Who sent a request: resolved by the transport for every operation (HTTP per request, a
/// WebSocket per message), never cached for the life of a connection.
pub struct Caller {
    pub ip: IpAddr,
    pub viewer: Option<Viewer>,
    /// Where a query reads, when the transport chose already (a cache fill reads its position
    /// first, then its data, on the same server).
    pub reads: Option<Reads>,
}

impl Caller {
    pub fn new(ip: IpAddr, viewer: Option<Viewer>) -> Self {
        Self {
            ip,
            viewer,
            reads: None,
        }
    }
}

impl Caller {
    /// Whom the operation's cost is charged to: the user, or the client IP when anonymous.
    fn rate_limit_key(&self) -> RateLimitKey {
        RateLimitKey(match &self.viewer {
            Some(viewer) => format!("gql:user:{}", viewer.id),
            None => format!("gql:ip:{}", self.ip),
        })
    }
}

/// What became of one operation, for the transport to choose its status and headers.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The document passed parsing, limits and validation, and ran.
    pub executed: bool,
    /// No execution turn freed up in time (answered 503).
    pub busy: bool,
    /// The caller's rate-limit charge, when limits are on.
    pub rate_limit: Option<(Decision, Quota)>,
}

/// An answer for an operation refused before it ran (the caller could not be resolved).
pub fn refusal_response(error: &AppError) -> GqlResponse {
    GqlResponse::from_errors(vec![refusal_error(error)])
}

/// `error` as a GraphQL error of a request that never ran (no path).
fn refusal_error(error: &AppError) -> ServerError {
    let error = error.to_graphql();
    let mut refusal = ServerError::new(error.message, None);
    refusal.extensions = error.extensions;
    refusal
}

/// Admits a subscription through the same limits and rate limit as any operation, then starts
/// its event stream (long-lived: it holds no execution turn).
pub async fn subscribe(
    gateway: &Gateway,
    caller: &Caller,
    mut request: Request,
) -> Result<BoxStream<'static, GqlResponse>, GqlResponse> {
    let state = gateway.app();
    if let Some(refusal) = prepare(state, &mut request, &caller.rate_limit_key())
        .await
        .refusal
    {
        return Err(refusal_response(&refusal));
    }
    let viewer = caller.viewer.clone();
    let loaders = Loaders::for_subscription(state, viewer.as_ref().map(|v| v.id));
    let request = request
        .data(state.clone())
        .data(RequestViewer(viewer))
        .data(ClientIp(caller.ip))
        .data(loaders);
    Ok(gateway
        .schema()
        .execute_stream(request)
        .map(|mut response| {
            label_argument_errors(&mut response.errors);
            label_refusals(&mut response.errors);
            response
        })
        .boxed())
}

/// Runs one query or mutation through every step, whichever transport it came by: limits
/// (depth, cost, aliases, fields), the caller's rate limit, an execution turn, execution with
/// its own loaders, cache invalidation after a write, metrics. The outcome says whether it reached
/// execution. `new_document` (parsed for this request) is kept for later requests once it has
/// run.
pub async fn run_one(
    gateway: &Gateway,
    caller: &Caller,
    request: Request,
    new_document: Option<NewDocument>,
    pending: Option<Pending>,
) -> (GqlResponse, Outcome) {
    let span = tracing::debug_span!(
        target: telemetry::TARGET,
        "graphql.operation",
        otel.name = tracing::field::Empty,
        graphql.operation.name = request.operation_name.as_deref().unwrap_or(""),
        graphql.operation.type = tracing::field::Empty,
        graphql.document.hash = tracing::field::Empty,
        graphql.cost = tracing::field::Empty,
    );
    let mut request = request;
    describe(&span, &mut request);
    run_in(gateway, caller, request, new_document, pending, &span)
        .instrument(span.clone())
        .await
}

/// Records on an operation's span (when traces are exported) what it is: its type and name
/// (before the span is entered: the exporter names a span once), and the sha256 of its
/// document. Never its variables.
fn describe(span: &tracing::Span, request: &mut Request) {
    if span.is_disabled() {
        return;
    }
    span.record("graphql.document.hash", sha256_hex(&request.query).as_str());
    let name = request.operation_name.clone();
    let kind = request
        .parsed_query()
        .ok()
        .and_then(|document| selected_operation(document, name.as_deref()))
        .map(|operation| operation.node.ty.to_string());
    if let Some(kind) = kind {
        span.record(
            "otel.name",
            format!("{kind} {}", name.as_deref().unwrap_or("")).trim_end(),
        );
        span.record("graphql.operation.type", kind.as_str());
    }
}

async fn run_in(
    gateway: &Gateway,
    caller: &Caller,
    request: Request,
    new_document: Option<NewDocument>,
    pending: Option<Pending>,
    span: &tracing::Span,
) -> (GqlResponse, Outcome) {
    let state = gateway.app();
    let operation_name = request.operation_name.clone();
    let queue = BatchQueue::default();
    let viewer = caller.viewer.clone();
    let limit_key = caller.rate_limit_key();
    let started = std::time::Instant::now();
    let mut request = request;
    let admission = prepare(state, &mut request, &limit_key).await;
    if let Some(cost) = admission.cost {
        span.record("graphql.cost", cost);
    }
    let mut outcome = Outcome {
        rate_limit: admission.rate_limit,
        ..Outcome::default()
    };
    // The operation's recorded duration includes the wait for a turn: the client sees it too.
    let turn = match admission.refusal {
        None => gateway.execution_turn().await.map_err(|busy| {
            outcome.busy = true;
            refusal_error(&busy)
        }),
        Some(refusal) => Err(refusal_error(&refusal)),
    };
    let turn = match turn {
        Ok(turn) => turn,
        Err(refusal) => {
            let mut response = GqlResponse::from_errors(vec![refusal]);
            label_refusals(&mut response.errors);
            crate::http::metrics::record_graphql(
                operation_name.as_deref(),
                "refused",
                started.elapsed(),
                &[],
            );
            return (response, outcome);
        }
    };
    // A mutation, and everything it reads back, runs on the primary.
    let reads = match (&caller.reads, admission.mutation) {
        (_, true) => state.primary_reads(),
        (Some(reads), false) => reads.clone(),
        (None, false) => state.reads_for(viewer.as_ref()).await,
    };
    let writer = viewer.as_ref().map(|v| v.id);
    let loaders = Loaders::new(writer, &queue, &reads);
    // What a mutation's fields change (queries change nothing: no set to fill or read).
    let changes = admission.mutation.then(TagSet::default);
    let mut request = request.data(state.clone()).data(reads);
    if let Some(changes) = &changes {
        request = request.data(changes.clone());
    }
    let request = request
        .data(RequestViewer(viewer))
        .data(ClientIp(caller.ip))
        .data(ResponseBudget::new(state.config().graphql_max_response_bytes))
        .data(loaders);
    let mut response = queue.drive(gateway.schema().execute(request)).await;
    drop(turn);
    // Whatever the mutation's fields changed, whether or not all of them succeeded.
    if let Some(changes) = changes {
        state.after_write(writer, &changes.snapshot()).await;
    }
    // Parse and validation errors carry no path; errors raised while resolving always do.
    let executed = response.errors.is_empty() || response.errors.iter().any(|e| !e.path.is_empty());
    outcome.executed = executed;
    if let (true, Some(new)) = (executed, new_document) {
        gateway.parsed_documents().remember(new);
    }
    if let (true, Some(pending)) = (executed, pending) {
        // Storing a document costs its caller a point per KiB, on top of the operation.
        if let Some(limiter) = state.limiter() {
            limiter
                .charge(&limit_key.0, state.graphql_quota(), pending.points())
                .await;
        }
        gateway.documents().save(pending).await;
    }
    if executed {
        label_argument_errors(&mut response.errors);
        if let Some(cost) = admission.cost {
            response
                .extensions
                .insert("cost".to_owned(), async_graphql::Value::from(cost));
        }
    } else {
        label_refusals(&mut response.errors);
    }
    let codes: Vec<String> = response
        .errors
        .iter()
        .filter_map(|e| {
            e.extensions
                .as_ref()?
                .get("code")
                .map(|c| c.to_string().trim_matches('"').to_owned())
        })
        .collect();
    let label = match (executed, response.errors.is_empty()) {
        (false, _) => "refused",
        (true, true) => "ok",
        (true, false) => "error",
    };
    crate::http::metrics::record_graphql(operation_name.as_deref(), label, started.elapsed(), &codes);
    (response, outcome)
}
