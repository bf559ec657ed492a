//! The `Post` type.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use super::connection::TotalCount;
use super::enums::Category;
use super::{CommentConnection, CommentObject, InOrder, UserObject, saturating_int};
use crate::db::models::Post;
use crate::domain::{comments, page};
use crate::graphql::context::{self, load_error};
use crate::graphql::loaders::PostCommentsKey;

#[derive(Clone)]
pub struct PostObject(pub Post);

#[Object(name = "Post")]
impl PostObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn content(&self) -> &str {
        &self.0.content
    }

    /// The start of the content, cut at a word boundary, with an ellipsis when shortened.
    async fn excerpt(
        &self,
        #[graphql(default = 200, validator(minimum = 1, maximum = 10000))] length: i32,
    ) -> String {
        excerpt(&self.0.content, usize::try_from(length).unwrap_or(200))
    }

    async fn category(&self) -> Category {
        self.0.category.into()
    }

    async fn tags(&self) -> &[String] {
        &self.0.tags
    }

    async fn is_published(&self) -> bool {
        self.0.is_published
    }

    /// Times the post was viewed (saturates at 2^31-1).
    async fn views(&self) -> i32 {
        saturating_int(self.0.views)
    }

    async fn like_count(&self) -> i32 {
        self.0.likes_count
    }

    async fn comment_count(&self) -> i32 {
        self.0.comments_count
    }

    /// views + 2 x likes + 3 x comments (saturates at 2^31-1).
    async fn popularity(&self) -> i32 {
        saturating_int(self.0.popularity)
    }

    /// Whether the current viewer liked this post (false when anonymous).
    async fn viewer_has_liked(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        if context::viewer(ctx).is_none() {
            return Ok(false);
        }
        let liked = Box::pin(context::loaders(ctx)?.liked.load_one(self.0.id))
            .await
            .map_err(load_error)?;
        Ok(liked.unwrap_or(false))
    }

    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<InOrder<UserObject>> {
        context::author(ctx, self.0.author_id).await.map(InOrder)
    }

    /// Comments, oldest first.
    async fn comments(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> async_graphql::Result<InOrder<CommentConnection>> {
        Box::pin(self.comment_page(ctx, first, after)).await.map(InOrder)
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

impl PostObject {
    async fn comment_page(
        &self,
        ctx: &Context<'_>,
        first: i32,
        after: Option<String>,
    ) -> async_graphql::Result<CommentConnection> {
        let first = page::page_size(Some(first), 20, "first")?;
        let page = match after {
            None => context::loaders(ctx)?
                .post_comments
                .load_one(PostCommentsKey {
                    post_id: self.0.id,
                    first,
                })
                .await
                .map_err(load_error)?
                .map_or_else(page::Page::empty, |page| page.map(CommentObject::with_author)),
            Some(after) => {
                comments::list_for_post(&mut *context::db(ctx).await?, self.0.id, first, Some(&after))
                    .await?
                    .map(CommentObject::new)
            }
        };
        Ok(CommentConnection::new(
            page,
            |comment| (comments::cursor_of(comment.comment()), comment),
            TotalCount::Known(i64::from(self.0.comments_count)),
        ))
    }
}

/// Cuts `content` to at most `length` characters at a word boundary.
pub fn excerpt(content: &str, length: usize) -> String {
    if content.chars().count() <= length {
        return content.to_owned();
    }
    let cut: String = content.chars().take(length).collect();
    let trimmed = match cut.rfind(char::is_whitespace) {
        Some(at) if at > 0 => &cut[..at],
        _ => cut.as_str(),
    };
    format!("{}…", trimmed.trim_end())
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn excerpts_cut_at_words() {
        assert_eq!(excerpt("short", 200), "short");
        assert_eq!(excerpt("hello brave new world", 13), "hello brave…");
        assert_eq!(excerpt("ééééé", 2), "éé…");
    }
}
