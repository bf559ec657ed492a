//! Resolves the client address once per request: the socket peer, or the first
//! `X-Forwarded-For` entry when TRUST_PROXY says a trusted proxy sets it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// The client address of a request (rate limits, the GraphQL context), set by [`resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

fn forwarded_for(request: &Request) -> Option<IpAddr> {
    let header = request.headers().get("x-forwarded-for")?.to_str().ok()?;
    header.split(',').next()?.trim().parse().ok()
}

pub async fn resolve(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let forwarded = if state.config().trust_proxy {
        forwarded_for(&request)
    } else {
        None
    };
    let ip = forwarded.or(peer).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    request.extensions_mut().insert(ClientIp(ip));
    next.run(request).await
}
