//! The `User` and `Profile` types. Email and last login are shown to the user and admins only.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::connection::TotalCount;
use super::enums::Role;
use super::{InOrder, PostConnection, PostObject};
use crate::db::models::User;
use crate::domain::{page, posts, users};
use crate::graphql::context::{self, load_error};
use crate::graphql::loaders::{AuthorPostCountKey, AuthorPostsKey};

#[derive(Clone)]
pub struct UserObject(pub Arc<User>);

#[derive(SimpleObject)]
pub struct Profile {
    first_name: Option<String>,
    last_name: Option<String>,
    avatar: Option<String>,
    bio: Option<String>,
}

#[Object(name = "User")]
impl UserObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn username(&self) -> &str {
        &self.0.username
    }

    /// Only for the user and admins; null for everyone else.
    async fn email(&self, ctx: &Context<'_>) -> Option<&str> {
        users::private_fields(&self.0, context::viewer(ctx)).map(|p| p.email)
    }

    async fn role(&self) -> Role {
        self.0.role.into()
    }

    async fn profile(&self) -> Profile {
        Profile {
            first_name: self.0.first_name.clone(),
            last_name: self.0.last_name.clone(),
            avatar: self.0.avatar.clone(),
            bio: self.0.bio.clone(),
        }
    }

    /// First and last name joined by a space (empty when neither is set).
    async fn full_name(&self) -> String {
        self.0.full_name()
    }

    async fn is_active(&self) -> bool {
        self.0.is_active
    }

    /// Only for the user and admins; null for everyone else.
    async fn last_login(&self, ctx: &Context<'_>) -> Option<DateTime<Utc>> {
        users::private_fields(&self.0, context::viewer(ctx)).and_then(|p| p.last_login)
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// The user's posts, newest first; drafts included for the user and admins.
    async fn posts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> async_graphql::Result<InOrder<PostConnection>> {
        Box::pin(self.post_page(ctx, first, after)).await.map(InOrder)
    }
}

impl UserObject {
    async fn post_page(
        &self,
        ctx: &Context<'_>,
        first: i32,
        after: Option<String>,
    ) -> async_graphql::Result<PostConnection> {
        let first = page::page_size(Some(first), 20, "first")?;
        let filter = posts::author_filter(context::viewer(ctx), self.0.id);
        let sort = posts::PostSort::Newest;
        let page = match after {
            None => context::loaders(ctx)?
                .author_posts
                .load_one(AuthorPostsKey {
                    author_id: self.0.id,
                    first,
                    include_drafts: filter.include_drafts,
                })
                .await
                .map_err(load_error)?
                .map(|page| {
                    page.map(|post| {
                        let cursor = sort.cursor_of(&post, 0.0);
                        (post, cursor)
                    })
                })
                .unwrap_or_else(page::Page::empty),
            Some(after) => {
                posts::list(&mut *context::db(ctx).await?, &filter, sort, first, Some(&after)).await?
            }
        };
        Ok(PostConnection::new(
            page,
            |(post, cursor)| (cursor, PostObject::with_author(post, self.0.clone())),
            TotalCount::AuthorPosts(AuthorPostCountKey {
                author_id: self.0.id,
                include_drafts: filter.include_drafts,
            }),
        ))
    }
}
