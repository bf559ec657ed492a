//! What every resolver reads from the request: state, viewer and loaders.

use async_graphql::Context;
use uuid::Uuid;

use super::loaders::Loaders;
use super::types::{InOrder, UserObject};
use crate::auth::Viewer;
use crate::db::DbConn;
use crate::error::{AppError, AuthFailure, Resource};
use crate::ratelimit::ClientIp;
use crate::state::AppState;

/// The caller of one GraphQL request (`None` when anonymous).
pub struct RequestViewer(pub Option<Viewer>);

pub fn state<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a AppState> {
    ctx.data::<AppState>()
}

pub fn viewer<'a>(ctx: &Context<'a>) -> Option<&'a Viewer> {
    ctx.data_opt::<RequestViewer>().and_then(|v| v.0.as_ref())
}

/// The viewer, or UNAUTHENTICATED.
pub fn require_viewer<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Viewer> {
    viewer(ctx).ok_or_else(|| AppError::Unauthenticated(AuthFailure::MissingToken).into())
}

/// The client address (unspecified when the request came without one).
pub fn client_ip(ctx: &Context<'_>) -> std::net::IpAddr {
    ctx.data_opt::<ClientIp>()
        .map_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |ip| ip.0)
}

pub fn loaders<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Loaders> {
    ctx.data::<Loaders>()
}

pub async fn db(ctx: &Context<'_>) -> async_graphql::Result<DbConn> {
    Ok(state(ctx)?.db().await?)
}

/// The author of a post or comment: the one the statement that read it read too, when that
/// answers the selection; otherwise through the request's loaders, only the byline when the
/// selection asks no more of the author.
pub async fn author(
    ctx: &Context<'_>,
    read_along: Option<&UserObject>,
    author_id: Uuid,
) -> async_graphql::Result<InOrder<UserObject>> {
    let byline_suffices = UserObject::byline_suffices(ctx);
    let author = match read_along {
        Some(whole @ UserObject::Whole(_)) => whole.clone(),
        Some(byline @ UserObject::Byline(_)) if byline_suffices => byline.clone(),
        _ if byline_suffices => UserObject::Byline(
            Box::pin(loaders(ctx)?.user_bylines.load_one(author_id))
                .await
                .map_err(load_error)?
                .ok_or(AppError::NotFound(Resource::User))?,
        ),
        _ => UserObject::Whole(
            Box::pin(loaders(ctx)?.users.load_one(author_id))
                .await
                .map_err(load_error)?
                .ok_or(AppError::NotFound(Resource::User))?,
        ),
    };
    Ok(InOrder(author))
}

/// Converts a loader failure into the GraphQL error of its cause.
pub fn load_error(error: std::sync::Arc<AppError>) -> async_graphql::Error {
    match std::sync::Arc::try_unwrap(error) {
        Ok(error) => error.into(),
        Err(shared) => shared_error(&shared),
    }
}

fn shared_error(error: &AppError) -> async_graphql::Error {
    match error {
        AppError::Unavailable => AppError::Unavailable.into(),
        AppError::NotFound(r) => AppError::NotFound(*r).into(),
        _ => AppError::internal(anyhow::anyhow!("batch load failed: {error:?}")).into(),
    }
}
