//! What every resolver reads from the request: state, viewer and loaders.

use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use uuid::Uuid;

use super::loaders::{LoadError, Loaders};
use crate::db::DbConn;
use crate::db::models::{User, UserByline};
use crate::db::replicas::{ReadFuture, Reads, Scope};
use crate::domain::changes::{EntityTag, TagSet};
use crate::domain::viewer::Viewer;
use crate::error::{AppError, AuthFailure, Resource};
use crate::http::client_ip::ClientIp;
use crate::state::AppState;
use diesel_async::AsyncPgConnection;

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

/// What is left of one operation's answer budget (`GRAPHQL_MAX_RESPONSE_BYTES`), spent by the
/// fields that can be large while the answer is built.
pub struct ResponseBudget(std::sync::atomic::AtomicUsize);

impl ResponseBudget {
    pub fn new(bytes: usize) -> Self {
        Self(std::sync::atomic::AtomicUsize::new(bytes))
    }
}

/// Takes `bytes` from the operation's answer budget; RESPONSE_TOO_LARGE once it is spent.
pub fn spend(ctx: &Context<'_>, bytes: usize) -> async_graphql::Result<()> {
    use std::sync::atomic::Ordering;
    let Some(budget) = ctx.data_opt::<ResponseBudget>() else {
        return Ok(());
    };
    budget
        .0
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
            left.checked_sub(bytes)
        })
        .map(|_| ())
        .map_err(|_| AppError::ResponseTooLarge.into())
}

/// The client address (unspecified when the request came without one).
pub fn client_ip(ctx: &Context<'_>) -> std::net::IpAddr {
    ctx.data_opt::<ClientIp>()
        .map_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |ip| ip.0)
}

pub fn loaders<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Loaders> {
    ctx.data::<Loaders>()
}

/// Records that the answer depends on `tags` (see `domain::changes`): every read that does not
/// go through a loader names what it read.
pub fn depends_on(ctx: &Context<'_>, tags: impl IntoIterator<Item = EntityTag>) {
    if let Some(reads) = ctx.data_opt::<Reads>() {
        reads.depends_on(tags);
    }
}

/// What the operation's writes changed (the service layer adds to it; the pipeline invalidates
/// the cache with it).
pub fn changes<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a TagSet> {
    ctx.data::<TagSet>()
}

/// A connection to the primary, for a write.
pub async fn db(ctx: &Context<'_>) -> async_graphql::Result<DbConn> {
    Ok(state(ctx)?.db().await?)
}

/// Runs `read` where the operation reads: a replica for a query (retried on the primary if
/// the replica fails), the primary for a mutation or a subscription's events.
pub async fn read<'a, T, F>(ctx: &Context<'_>, read: F) -> async_graphql::Result<T>
where
    F: for<'r> Fn(&'r mut AsyncPgConnection, Scope<'r, 'a>) -> ReadFuture<'r, T>,
{
    let reads = match ctx.data_opt::<Reads>() {
        Some(reads) => reads.clone(),
        None => state(ctx)?.primary_reads(),
    };
    Ok(reads.run(read).await?)
}

/// A user's whole row through the request's user loader; NOT_FOUND when there is none.
pub async fn user(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Arc<User>> {
    existing_user(&loaders(ctx)?.users, id).await
}

pub async fn byline(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Arc<UserByline>> {
    existing_user(&loaders(ctx)?.user_bylines, id).await
}

/// One user through one of the request's user loaders; NOT_FOUND when there is none.
async fn existing_user<T>(loader: &DataLoader<T, HashMapCache>, id: Uuid) -> async_graphql::Result<T::Value>
where
    T: Loader<Uuid, Error = LoadError>,
{
    Box::pin(loader.load_one(id))
        .await
        .map_err(load_error)?
        .ok_or_else(|| AppError::NotFound(Resource::User).into())
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
