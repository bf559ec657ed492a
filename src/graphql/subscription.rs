//! Subscription root: `commentAdded(postId)` and `postPublished(category)`, fed by the event bus.

use std::sync::Arc;

use async_graphql::{Context, ID, Subscription};
use futures_util::Stream;
use futures_util::future::{self, Either};
use futures_util::stream::StreamExt;
use tokio::sync::broadcast::error::RecvError;

use super::context;
use super::fanout::{Admission, Fanout};
use super::types::enums::Category;
use super::types::{CommentObject, InOrder, PostObject, UserObject};
use crate::domain::validate::parse_id;
use crate::domain::viewer::Viewer;
use crate::domain::{comments, posts};
use crate::error::{AppError, Resource};
use crate::events::Event;
use crate::state::AppState;

#[derive(Default)]
pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Comments added to a post the viewer can see, as they are added (on any instance).
    async fn comment_added(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = InOrder<CommentObject>> + use<>> {
        let post_id = parse_id(&post_id, "postId")?;
        let state = context::state(ctx)?.clone();
        let viewer = context::viewer(ctx).cloned();
        let (fanout, admission) = admit(ctx)?;
        // Boxed: async-graphql keeps this resolver's future inline in the subscription's stream
        // for as long as it lives, and the read (a pool checkout and a query) is most of it.
        let visible = Box::pin(async {
            let mut conn = state.db().await?;
            let post = posts::find_visible_with_author(&mut conn, viewer.as_ref(), post_id).await?;
            Ok::<_, AppError>(post.is_some())
        })
        .await?;
        if !visible {
            return Err(AppError::NotFound(Resource::Post).into());
        }
        let events = event_stream(&state);
        Ok(events.filter_map(move |event| {
            // The admission lives as long as the stream.
            let _counted = &admission;
            let comment_id = match event {
                Event::CommentAdded {
                    post_id: event_post,
                    comment_id,
                } if event_post == post_id => comment_id,
                _ => return Either::Left(future::ready(None)),
            };
            let state = state.clone();
            let viewer = viewer.clone();
            let fanout = fanout.clone();
            // Boxed: the stream keeps the slot of its pending future inline for as long as it
            // lives, and a subscription waits far longer than it reads; unboxed, the read (a
            // pool checkout and a query) made every idle subscription as large as its busiest
            // moment. Events for other posts pass without a read or an allocation.
            Either::Right(Box::pin(async move {
                // One read per event for every subscriber of this process, the author included
                // (each subscriber's loader read it before: one read per subscriber of each new
                // author); visibility is checked for each (the post may have been unpublished).
                let (comment, post, author) = fanout
                    .comment(comment_id, async {
                        let mut conn = state.db().await.ok()?;
                        comments::find_with_post_and_author(&mut conn, comment_id)
                            .await
                            .ok()
                            .flatten()
                    })
                    .await?;
                comments::visible((comment, post), viewer.as_ref()).map(|comment| {
                    InOrder(CommentObject::with_author(
                        comment,
                        UserObject::Whole(author.into()),
                    ))
                })
            }))
        }))
    }

    /// Posts as they are published (created published, or a draft published), optionally of one
    /// category.
    async fn post_published(
        &self,
        ctx: &Context<'_>,
        category: Option<Category>,
    ) -> async_graphql::Result<impl Stream<Item = InOrder<PostObject>> + use<>> {
        let state = context::state(ctx)?.clone();
        let viewer: Option<Viewer> = context::viewer(ctx).cloned();
        let (fanout, admission) = admit(ctx)?;
        let wanted = category.map(crate::db::models::Category::from);
        let events = event_stream(&state);
        Ok(events.filter_map(move |event| {
            let _counted = &admission;
            let post_id = match event {
                Event::PostPublished { post_id, category }
                    if wanted.is_none_or(|wanted| wanted == category.0) =>
                {
                    post_id
                }
                _ => return Either::Left(future::ready(None)),
            };
            let state = state.clone();
            let viewer = viewer.clone();
            let fanout = fanout.clone();
            // Boxed, as in `comment_added`.
            Either::Right(Box::pin(async move {
                let (post, author) = fanout
                    .post(post_id, async {
                        let mut conn = state.db().await.ok()?;
                        posts::find_with_author(&mut conn, post_id).await.ok().flatten()
                    })
                    .await?;
                posts::is_visible(&post, viewer.as_ref())
                    .then(|| InOrder(PostObject::with_author(post, UserObject::Whole(author.into()))))
            }))
        }))
    }
}

/// Counts a new subscription against its client (the user, else the IP), or refuses it.
fn admit(ctx: &Context<'_>) -> async_graphql::Result<(Arc<Fanout>, Admission)> {
    let fanout = ctx.data::<Arc<Fanout>>()?.clone();
    let client = match context::viewer(ctx) {
        Some(viewer) => format!("user:{}", viewer.id),
        None => format!("ip:{}", context::client_ip(ctx)),
    };
    let admission = fanout.admit(client)?;
    Ok((fanout, admission))
}

/// The bus as a stream; a subscriber that lags skips what it missed instead of ending.
fn event_stream(state: &AppState) -> impl Stream<Item = Event> + use<> {
    futures_util::stream::unfold(state.events().subscribe(), |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(event) => return Some((event, receiver)),
                Err(RecvError::Lagged(skipped)) => {
                    // Never silent: counted in /metrics.
                    metrics::counter!("graphql_subscription_events_dropped_total").increment(skipped);
                    tracing::warn!(skipped, "a subscriber lagged behind and missed events");
                }
                Err(RecvError::Closed) => return None,
            }
        }
    })
}
