//! The `Post` type.

use super::scalars::DateTime;
use async_graphql::{Context, ID, Object};

use super::connection::{TotalCount, page_request};
use super::enums::Category;
use super::{CommentConnection, CommentObject, InOrder, UserObject, saturating_int};
use crate::db::models::Post;
use crate::domain::changes::EntityTag;
use crate::domain::{comments, page, posts};
use crate::graphql::context::{self, load_error};
use crate::graphql::loaders::PostCommentsKey;

/// Characters in an excerpt when `length` is not given.
const DEFAULT_EXCERPT_CHARS: i32 = 200;

#[derive(Clone)]
pub struct PostObject {
    post: Post,
    /// The author when the statement that read the post read it too (a post by id, a user's own
    /// posts); otherwise a loader fetches it.
    author: Option<UserObject>,
}

impl PostObject {
    pub fn new(post: Post) -> Self {
        Self { post, author: None }
    }

    pub fn with_author(post: Post, author: UserObject) -> Self {
        Self {
            post,
            author: Some(author),
        }
    }

    pub fn post(&self) -> &Post {
        &self.post
    }
}

#[Object(name = "Post")]
impl PostObject {
    async fn id(&self) -> ID {
        ID(self.post.id.to_string())
    }

    async fn title(&self) -> &str {
        &self.post.title
    }

    /// For URLs: from the title at creation, unique, lowercase ASCII with hyphens; it stays when
    /// the title changes. `post(slug:)` finds the post by it.
    async fn slug(&self) -> &str {
        &self.post.slug
    }

    /// When the post was first published; null while it never was (it stays when the post is
    /// unpublished).
    async fn published_at(&self) -> Option<DateTime> {
        self.post.published_at.map(DateTime)
    }

    /// Minutes to read the content at 200 words a minute, rounded up, at least 1.
    async fn reading_time_minutes(&self) -> i32 {
        posts::reading_time_minutes(&self.post.content)
    }

    async fn content(&self, ctx: &Context<'_>) -> async_graphql::Result<&str> {
        context::spend(ctx, self.post.content.len())?;
        Ok(&self.post.content)
    }

    /// The start of the content, cut at a word boundary, with an ellipsis when shortened.
    async fn excerpt(
        &self,
        #[graphql(
            default_with = "Some(DEFAULT_EXCERPT_CHARS)",
            validator(minimum = 1, maximum = 10000)
        )]
        length: Option<i32>,
    ) -> String {
        // `null` asks for the default, as an absent argument does (the validator refused < 1).
        let length = length.unwrap_or(DEFAULT_EXCERPT_CHARS).unsigned_abs() as usize;
        excerpt(&self.post.content, length)
    }

    async fn category(&self) -> Category {
        self.post.category.into()
    }

    async fn tags(&self) -> &[String] {
        &self.post.tags
    }

    async fn is_published(&self) -> bool {
        self.post.is_published
    }

    /// Times the post was viewed (saturates at 2^31-1).
    async fn views(&self) -> i32 {
        saturating_int(self.post.views)
    }

    async fn like_count(&self) -> i32 {
        self.post.likes_count
    }

    async fn comment_count(&self) -> i32 {
        self.post.comments_count
    }

    /// views + 2 x likes + 3 x comments (saturates at 2^31-1).
    async fn popularity(&self) -> i32 {
        saturating_int(self.post.popularity)
    }

    /// Whether the current viewer liked this post (false when anonymous).
    async fn viewer_has_liked(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        if context::viewer(ctx).is_none() {
            return Ok(false);
        }
        let liked = Box::pin(context::loaders(ctx)?.liked.load_one(self.post.id))
            .await
            .map_err(load_error)?;
        Ok(liked.unwrap_or(false))
    }

    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<InOrder<UserObject>> {
        super::user::author_of(ctx, self.author.as_ref(), self.post.author_id).await
    }

    /// Comments, oldest first.
    async fn comments(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(page::DEFAULT_PAGE_SIZE)")] first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<InOrder<CommentConnection>> {
        let request = page_request(ctx, first, after, last, before)?;
        Box::pin(self.comment_page(ctx, request)).await.map(InOrder)
    }

    async fn created_at(&self) -> DateTime {
        DateTime(self.post.created_at)
    }

    async fn updated_at(&self) -> DateTime {
        DateTime(self.post.updated_at)
    }
}

impl PostObject {
    async fn comment_page(
        &self,
        ctx: &Context<'_>,
        request: page::PageRequest,
    ) -> async_graphql::Result<CommentConnection> {
        // The first and the last page of every post in one statement (the loader); pages after
        // or before a cursor one by one.
        let total = i64::from(self.post.comments_count);
        let page = if request.cursor.is_none() {
            context::loaders(ctx)?
                .post_comments
                .load_one(PostCommentsKey {
                    post_id: self.post.id,
                    first: request.size,
                    direction: request.direction,
                })
                .await
                .map_err(load_error)?
                .map_or_else(page::Page::empty, |rows| {
                    page::Page::end_of_counted(rows, total, request.direction).map(|(comment, byline)| {
                        CommentObject::with_author(comment, UserObject::Byline(byline))
                    })
                })
        } else {
            let page = context::read(ctx, |conn, _| {
                Box::pin(comments::list_for_post(conn, self.post.id, &request))
            })
            .await?;
            context::depends_on(ctx, [EntityTag::CommentList(self.post.id)]);
            context::depends_on(ctx, page.items.iter().map(|c| EntityTag::Comment(c.id)));
            page.map(CommentObject::new)
        };
        Ok(CommentConnection::new(
            page,
            |comment| (comments::cursor_of(comment.comment()), comment),
            TotalCount::Known(i64::from(self.post.comments_count)),
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
