//! Relay's Global Object Identification: the `Node` interface of users, posts and comments, and
//! loading any of them by id. Ids are the UUIDs both doors already speak (unique across tables),
//! so a node's id is the id REST uses.

use std::collections::HashMap;

use async_graphql::{Context, ID, Interface};
use uuid::Uuid;

use super::{CommentObject, PostObject, UserObject};
use crate::domain::{comments, posts};
use crate::graphql::context::{self, load_error};

/// An object with a globally unique id, refetchable through `node(id:)`.
#[derive(Clone, Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    method = "node_id",
    desc = "The object's id, unique across every type (the UUID the REST routes use)."
))]
pub enum Node {
    User(UserObject),
    Post(PostObject),
    Comment(CommentObject),
}

/// The nodes among `ids` that the viewer may see, by id: a user whoever asks (as `user(id:)`), a
/// post when it is published or the viewer may see the draft (as `post(id:)`), a comment when its
/// post is visible. Every id is looked up in each table through the request's loaders, so any
/// number of ids costs at most one statement per type.
pub async fn load(ctx: &Context<'_>, ids: &[Uuid]) -> async_graphql::Result<HashMap<Uuid, Node>> {
    let (found_users, found_posts, found_comments) = futures_util::try_join!(
        visible_users(ctx, ids),
        visible_posts(ctx, ids),
        visible_comments(ctx, ids)
    )?;
    let mut nodes: HashMap<Uuid, Node> = found_users
        .into_iter()
        .map(|(id, user)| (id, Node::User(user)))
        .collect();
    nodes.extend(found_posts.into_iter().map(|(id, post)| (id, Node::Post(post))));
    nodes.extend(
        found_comments
            .into_iter()
            .map(|(id, comment)| (id, Node::Comment(comment))),
    );
    Ok(nodes)
}

/// The users among `ids` (anyone may see any user), through the request's loader.
pub async fn visible_users(
    ctx: &Context<'_>,
    ids: &[Uuid],
) -> async_graphql::Result<HashMap<Uuid, UserObject>> {
    let loaders = context::loaders(ctx)?;
    let found = loaders
        .users
        .load_many(ids.iter().copied())
        .await
        .map_err(load_error)?;
    Ok(found
        .into_iter()
        .map(|(id, user)| (id, UserObject::Whole(user)))
        .collect())
}

/// The posts among `ids` the viewer may see, through the request's loader.
pub async fn visible_posts(
    ctx: &Context<'_>,
    ids: &[Uuid],
) -> async_graphql::Result<HashMap<Uuid, PostObject>> {
    let loaders = context::loaders(ctx)?;
    let viewer = context::viewer(ctx);
    let found = loaders
        .posts
        .load_many(ids.iter().copied())
        .await
        .map_err(load_error)?;
    Ok(found
        .into_iter()
        .filter(|(_, post)| posts::is_visible(post, viewer))
        .map(|(id, post)| (id, PostObject::new(post)))
        .collect())
}

/// The comments among `ids` whose post the viewer may see, through the request's loader.
pub async fn visible_comments(
    ctx: &Context<'_>,
    ids: &[Uuid],
) -> async_graphql::Result<HashMap<Uuid, CommentObject>> {
    let loaders = context::loaders(ctx)?;
    let viewer = context::viewer(ctx);
    let found = loaders
        .comments
        .load_many(ids.iter().copied())
        .await
        .map_err(load_error)?;
    Ok(found
        .into_iter()
        .filter_map(|(id, row)| {
            comments::visible(row, viewer).map(|comment| (id, CommentObject::new(comment)))
        })
        .collect())
}

// The interface's `id` on each type: async-graphql calls it with the context.

impl UserObject {
    pub async fn node_id(&self, _ctx: &Context<'_>) -> async_graphql::Result<ID> {
        Ok(ID(self.user_id().to_string()))
    }
}

impl PostObject {
    pub async fn node_id(&self, _ctx: &Context<'_>) -> async_graphql::Result<ID> {
        Ok(ID(self.post().id.to_string()))
    }
}

impl CommentObject {
    pub async fn node_id(&self, _ctx: &Context<'_>) -> async_graphql::Result<ID> {
        Ok(ID(self.comment().id.to_string()))
    }
}
