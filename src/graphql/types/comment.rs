//! The `Comment` type.

use super::scalars::DateTime;
use async_graphql::{Context, ID, Object};

use super::{InOrder, PostObject, UserObject};
use crate::db::models::Comment;
use crate::error::{AppError, Resource};
use crate::graphql::context::{self, load_error};

#[derive(Clone)]
pub struct CommentObject {
    comment: Comment,
    /// The author's byline when the statement that read the comment read it too; otherwise a
    /// loader fetches the author.
    author: Option<UserObject>,
}

impl CommentObject {
    pub fn new(comment: Comment) -> Self {
        Self {
            comment,
            author: None,
        }
    }

    /// A comment with its author read by the same statement (a page's byline, or an event's
    /// whole row).
    pub fn with_author(comment: Comment, author: UserObject) -> Self {
        Self {
            comment,
            author: Some(author),
        }
    }

    pub fn comment(&self) -> &Comment {
        &self.comment
    }
}

#[Object(name = "Comment")]
impl CommentObject {
    async fn id(&self) -> ID {
        ID(self.comment.id.to_string())
    }

    async fn content(&self) -> &str {
        &self.comment.content
    }

    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<InOrder<UserObject>> {
        super::user::author_of(ctx, self.author.as_ref(), self.comment.author_id).await
    }

    async fn post(&self, ctx: &Context<'_>) -> async_graphql::Result<InOrder<PostObject>> {
        let post = Box::pin(context::loaders(ctx)?.posts.load_one(self.comment.post_id))
            .await
            .map_err(load_error)?
            .ok_or_else(|| AppError::NotFound(Resource::Post))?;
        Ok(InOrder(PostObject::new(post)))
    }

    async fn created_at(&self) -> DateTime {
        DateTime(self.comment.created_at)
    }

    async fn updated_at(&self) -> DateTime {
        DateTime(self.comment.updated_at)
    }
}
