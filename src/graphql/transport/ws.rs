//! `GET /graphql/ws`: GraphQL over WebSocket (graphql-transport-ws, and the older graphql-ws), a
//! transport of the one pipeline (`pipeline`). The socket only carries the caller's token: every
//! operation resolves the viewer again (role, active flag, expiry), and runs through the same
//! limits, rate limit, execution turn, cache invalidation and metrics as over HTTP. A socket
//! whose token expires, or whose user is deactivated or given another role, is closed with 4403
//! at once (on a user-changed event of the bus, so on every instance); graphql-ws clients then
//! reconnect with a fresh token.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::str::FromStr;

use async_graphql::http::{
    ALL_WEBSOCKET_PROTOCOLS, WebSocket as ProtocolStream, WebSocketProtocols as Protocols, WsMessage,
};
use async_graphql::parser::types::OperationType;
use async_graphql::{Data, Executor, Request, Response as GqlResponse};
use axum::Extension;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{BoxStream, StreamExt};
use futures_util::{SinkExt, future};
use tokio::sync::watch;

use crate::domain::viewer::Viewer;
use crate::error::{AppError, AuthFailure};
use crate::events::Event;
use crate::graphql::admission::selected_operation;
use crate::graphql::persisted;
use crate::graphql::pipeline::{self, Caller};
use crate::graphql::runtime::Gateway;
use crate::http::caller::viewer_from_token;
use crate::http::client_ip::ClientIp;

/// The close code and reason of a socket whose session ended.
const SESSION_ENDED: (u16, &str) = (
    4403,
    "Forbidden: the session ended (token expired, user deactivated or role changed); reconnect with a fresh token",
);

/// `GET /graphql/ws`. Messages are bounded like HTTP bodies (`GRAPHQL_BODY_LIMIT`).
pub async fn graphql_ws(
    State(gateway): State<Gateway>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    // The first subprotocol offered that this server speaks (400 when there is none).
    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|value| value.to_str().ok())
        .and_then(|offered| {
            offered
                .split(',')
                .find_map(|p| Protocols::from_str(p.trim()).ok())
        });
    let Some(protocol) = protocol else {
        return (
            StatusCode::BAD_REQUEST,
            "Offer the graphql-transport-ws (or graphql-ws) subprotocol in Sec-WebSocket-Protocol",
        )
            .into_response();
    };
    let limit = gateway.app().config().graphql_body_limit;
    upgrade
        .max_message_size(limit)
        .max_frame_size(limit)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(socket, Session::new(gateway, ip), protocol))
}

/// Where a socket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Open,
    /// Its session ended: close with 4403.
    Ended,
    /// The socket is gone: background work stops.
    Closed,
}

/// One socket's caller: the token of its `connection_init`, and the viewer it resolved to then
/// (the role a later operation must still have).
struct Session {
    gateway: Gateway,
    ip: IpAddr,
    token: Mutex<Option<String>>,
    signed_in_as: Mutex<Option<Viewer>>,
    status: watch::Sender<Status>,
    /// Subscriptions open on this socket (GRAPHQL_MAX_SUBSCRIPTIONS_PER_SOCKET).
    subscriptions: AtomicUsize,
}

/// One open subscription of a socket; uncounted when its stream is dropped.
struct OpenSubscription(Arc<Session>);

impl Drop for OpenSubscription {
    fn drop(&mut self) {
        self.0.subscriptions.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Session {
    fn new(gateway: Gateway, ip: IpAddr) -> Arc<Self> {
        Arc::new(Self {
            gateway,
            ip,
            token: Mutex::new(None),
            signed_in_as: Mutex::new(None),
            status: watch::Sender::new(Status::Open),
            subscriptions: AtomicUsize::new(0),
        })
    }

    fn set_status(&self, status: Status) {
        self.status.send_if_modified(|current| {
            let changed = *current == Status::Open;
            if changed {
                *current = status;
            }
            changed
        });
    }

    async fn until(&self, wanted: Status) {
        let mut status = self.status.subscribe();
        let _ = status.wait_for(|s| *s == wanted).await;
    }

    /// The viewer the token resolves to now.
    async fn resolve(&self) -> Result<Option<Viewer>, AppError> {
        let token = self.token.lock().ok().and_then(|t| t.clone());
        match token {
            Some(token) => viewer_from_token(self.gateway.app(), &token).await.map(Some),
            None => Ok(None),
        }
    }

    /// The viewer of one operation: resolved again, and the session ended when it no longer
    /// matches the one signed in (expired, deactivated, another role).
    async fn viewer(&self) -> Result<Option<Viewer>, AppError> {
        let signed_in_as = self.signed_in_as.lock().ok().and_then(|v| v.clone());
        let current = self.resolve().await;
        let still = match (&current, &signed_in_as) {
            (Ok(None), None) => true,
            (Ok(Some(now)), Some(then)) => now.role == then.role,
            _ => false,
        };
        if still {
            current
        } else {
            self.set_status(Status::Ended);
            Err(match current {
                Err(error) => error,
                Ok(_) => AppError::Unauthenticated(AuthFailure::InvalidToken),
            })
        }
    }

    /// `connection_init`: takes the token from wherever clients put it; a refused token closes
    /// the socket with 4403.
    async fn init(self: Arc<Self>, payload: serde_json::Value) -> async_graphql::Result<Data> {
        if let Ok(mut token) = self.token.lock() {
            *token = token_of_init(&payload);
        }
        let viewer = self
            .resolve()
            .await
            .map_err(|e| async_graphql::Error::new(e.message()))?;
        if let Ok(mut signed_in_as) = self.signed_in_as.lock() {
            signed_in_as.clone_from(&viewer);
        }
        if let Some(viewer) = viewer {
            tokio::spawn(self.clone().watch(viewer));
        }
        Ok(Data::default())
    }

    /// Ends the session when its token expires, or at once when its user changes (role or
    /// active flag) on any instance.
    async fn watch(self: Arc<Self>, viewer: Viewer) {
        let token = self.token.lock().ok().and_then(|t| t.clone()).unwrap_or_default();
        let expires_in = self
            .gateway
            .app()
            .jwt()
            .verify(&token)
            .map(|claims| claims.exp - chrono::Utc::now().timestamp())
            .unwrap_or(0);
        let expiry = tokio::time::sleep(Duration::from_secs(u64::try_from(expires_in).unwrap_or(0)));
        tokio::pin!(expiry);
        let mut events = self.gateway.app().events().subscribe();
        let mut status = self.status.subscribe();
        loop {
            let changed = tokio::select! {
                () = &mut expiry => {
                    self.set_status(Status::Ended);
                    return;
                }
                _ = status.wait_for(|s| *s != Status::Open) => return,
                event = events.recv() => match event {
                    Ok(Event::UserChanged { user_id }) => user_id == viewer.id,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    _ => false,
                },
            };
            if changed {
                // Ends the session when the user no longer resolves as signed in.
                let _ = self.viewer().await;
            }
        }
    }

    /// One operation: the viewer resolved again, then the pipeline (a subscription's events
    /// stop when the session ends).
    async fn run(self: Arc<Self>, mut request: Request) -> BoxStream<'static, GqlResponse> {
        let viewer = match self.viewer().await {
            Ok(viewer) => viewer,
            Err(error) => return single(pipeline::refusal_response(&error)),
        };
        let caller = Caller::new(self.ip, viewer);
        let gateway = &self.gateway;
        let state = gateway.app();
        // graphql-transport-ws carries GraphQL's own fields only: a persisted document comes by
        // `extensions.persistedQuery`, and no router subscribes.
        let submission = persisted::Submission::default();
        let pending = match persisted::resolve(state, gateway.documents(), &mut request, submission).await {
            Ok(pending) => pending,
            Err(refused) => return single(pipeline::refusal_response(&AppError::Document(refused))),
        };
        let new_document = gateway.parsed_documents().attach(&mut request);
        let operation_name = request.operation_name.clone();
        let is_subscription = request.parsed_query().ok().and_then(|document| {
            selected_operation(document, operation_name.as_deref()).map(|op| op.node.ty)
        }) == Some(OperationType::Subscription);
        if !is_subscription {
            let (response, _) = pipeline::run_one(gateway, &caller, request, new_document, pending).await;
            return single(response);
        }
        let max = usize::try_from(state.config().graphql_max_subscriptions_per_socket).unwrap_or(usize::MAX);
        if self.subscriptions.fetch_add(1, Ordering::Relaxed) >= max {
            self.subscriptions.fetch_sub(1, Ordering::Relaxed);
            metrics::counter!("graphql_subscriptions_refused_total", "limit" => "socket").increment(1);
            return single(pipeline::refusal_response(&AppError::TooManySubscriptions));
        }
        let open = OpenSubscription(self.clone());
        match pipeline::subscribe(gateway, &caller, request).await {
            Ok(events) => {
                let session = self.clone();
                events
                    .take_until(async move { session.until(Status::Ended).await })
                    .map(move |event| {
                        let _counted = &open;
                        event
                    })
                    .boxed()
            }
            Err(refusal) => single(refusal),
        }
    }
}

fn single(response: GqlResponse) -> BoxStream<'static, GqlResponse> {
    futures_util::stream::once(future::ready(response)).boxed()
}

/// The protocol stream's executor: every operation goes to the session (and so the pipeline).
#[derive(Clone)]
struct SocketExecutor(Arc<Session>);

impl Executor for SocketExecutor {
    async fn execute(&self, request: Request) -> GqlResponse {
        let mut responses = self.0.clone().run(request).await;
        responses.next().await.unwrap_or_default()
    }

    fn execute_stream(&self, request: Request, _data: Option<Arc<Data>>) -> BoxStream<'static, GqlResponse> {
        let session = self.0.clone();
        // Boxed: `Once` keeps its future's slot inline after it has run, and this stream lives
        // as long as the subscription; the admission and the pipeline's steps (a Redis round trip
        // among them) would otherwise stay allocated in every idle subscription.
        futures_util::stream::once(Box::pin(session.run(request)))
            .flatten()
            .boxed()
    }
}

/// Carries the protocol stream (async-graphql's graphql-transport-ws state machine) over the
/// socket, and closes it with 4403 when the session ends.
async fn serve(socket: WebSocket, session: Arc<Session>, protocol: Protocols) {
    let (mut sink, stream) = socket.split();
    let input = stream
        .take_while(|message| future::ready(message.is_ok()))
        .filter_map(|message| {
            future::ready(match message {
                Ok(message @ (Message::Text(_) | Message::Binary(_))) => Some(message.into_data()),
                _ => None,
            })
        });
    let init_session = session.clone();
    let messages = ProtocolStream::new(SocketExecutor(session.clone()), input, protocol)
        .on_connection_init(move |payload| init_session.init(payload));
    futures_util::pin_mut!(messages);
    loop {
        tokio::select! {
            message = messages.next() => match message {
                Some(WsMessage::Text(text)) => {
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Some(WsMessage::Close(code, reason)) => {
                    let _ = sink.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
                    break;
                }
                None => break,
            },
            () = session.until(Status::Ended) => {
                let (code, reason) = SESSION_ENDED;
                let _ = sink.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
                break;
            }
        }
    }
    session.set_status(Status::Closed);
}

/// The token of a `connection_init` payload, from wherever clients put it: `Authorization` or
/// `authorization` (`Bearer <token>`), `authToken` or `token` (the bare token, or with `Bearer`),
/// or `headers.Authorization`.
fn token_of_init(payload: &serde_json::Value) -> Option<String> {
    fn text(value: Option<&serde_json::Value>) -> Option<&str> {
        value.and_then(serde_json::Value::as_str)
    }
    let headers = payload.get("headers");
    let value = text(payload.get("Authorization"))
        .or_else(|| text(payload.get("authorization")))
        .or_else(|| text(headers.and_then(|h| h.get("Authorization"))))
        .or_else(|| text(headers.and_then(|h| h.get("authorization"))))
        .or_else(|| text(payload.get("authToken")))
        .or_else(|| text(payload.get("token")))?;
    crate::http::caller::bearer_token(Some(value)).map(str::to_owned)
}
