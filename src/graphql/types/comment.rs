//! The `Comment` type.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use super::{PostObject, UserObject};
use crate::db::models::Comment;
use crate::error::{AppError, Resource};
use crate::graphql::context::{self, load_error};

#[derive(Clone)]
pub struct CommentObject(pub Comment);

#[Object(name = "Comment")]
impl CommentObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn content(&self) -> &str {
        &self.0.content
    }

    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<UserObject> {
        context::author(ctx, self.0.author_id).await
    }

    async fn post(&self, ctx: &Context<'_>) -> async_graphql::Result<PostObject> {
        let post = Box::pin(context::loaders(ctx)?.posts.load_one(self.0.post_id))
            .await
            .map_err(load_error)?
            .ok_or_else(|| AppError::NotFound(Resource::Post))?;
        Ok(PostObject(post))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}
