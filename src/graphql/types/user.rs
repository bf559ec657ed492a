//! The `User` and `Profile` types. Email and last login are shown to the user and admins only.

use std::sync::Arc;

use super::scalars::DateTime;
use async_graphql::{Context, ID, Object, SimpleObject};

use super::connection::{TotalCount, page_request};
use super::enums::Role;
use super::{InOrder, PostConnection, PostObject};
use crate::db::models::{User, UserByline};
use crate::domain::changes::EntityTag;
use crate::domain::{likes, page, posts, users};
use crate::graphql::context::{self, load_error};
use crate::graphql::loaders::{AuthorPostCountKey, AuthorPostsKey};

/// A user as this request read it: the whole row, or only the byline of a post's or comment's
/// author. A byline answers `id`, `username` and `fullName`; any other field reads the whole row
/// (through the request's user loader), so a byline is an economy, never a different answer.
#[derive(Clone)]
pub enum UserObject {
    Whole(Arc<User>),
    Byline(Arc<UserByline>),
}

impl UserObject {
    /// The fields a byline answers by itself, as the schema spells them (a field missing here
    /// costs a whole-row read, never a wrong answer).
    const BYLINE_FIELDS: [&'static str; 5] = ["id", "username", "fullName", "postCount", "__typename"];

    /// Whether the field being resolved (a user-valued one) selects only what a byline answers.
    pub fn byline_suffices(ctx: &Context<'_>) -> bool {
        ctx.field()
            .selection_set()
            .all(|field| Self::BYLINE_FIELDS.contains(&field.name()))
    }

    pub(super) fn user_id(&self) -> uuid::Uuid {
        match self {
            UserObject::Whole(user) => user.id,
            UserObject::Byline(byline) => byline.id,
        }
    }

    /// The whole row: this one, or the user loader's. `context::author` hands out a byline only
    /// when the selection asks for nothing more, so the loader's arm is the guarantee that a
    /// field missing from [`Self::BYLINE_FIELDS`] still gets its real value.
    async fn whole(&self, ctx: &Context<'_>) -> async_graphql::Result<Arc<User>> {
        match self {
            UserObject::Whole(user) => Ok(user.clone()),
            UserObject::Byline(byline) => context::user(ctx, byline.id).await,
        }
    }
}

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
        ID(self.user_id().to_string())
    }

    async fn username(&self) -> &str {
        match self {
            UserObject::Whole(user) => &user.username,
            UserObject::Byline(byline) => &byline.username,
        }
    }

    /// Only for the user and admins; null for everyone else.
    async fn email(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let user = self.whole(ctx).await?;
        Ok(users::private_fields(&user, context::viewer(ctx)).map(|p| p.email.to_owned()))
    }

    async fn role(&self, ctx: &Context<'_>) -> async_graphql::Result<Role> {
        Ok(self.whole(ctx).await?.role.into())
    }

    async fn profile(&self, ctx: &Context<'_>) -> async_graphql::Result<Profile> {
        let user = self.whole(ctx).await?;
        Ok(Profile {
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            avatar: user.avatar.clone(),
            bio: user.bio.clone(),
        })
    }

    /// First and last name joined by a space (empty when neither is set).
    async fn full_name(&self) -> String {
        match self {
            UserObject::Whole(user) => user.full_name(),
            UserObject::Byline(byline) => byline.full_name(),
        }
    }

    async fn is_active(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(self.whole(ctx).await?.is_active)
    }

    /// Only for the user and admins; null for everyone else.
    async fn last_login(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<DateTime>> {
        let user = self.whole(ctx).await?;
        Ok(users::private_fields(&user, context::viewer(ctx))
            .and_then(|p| p.last_login)
            .map(DateTime))
    }

    async fn created_at(&self, ctx: &Context<'_>) -> async_graphql::Result<DateTime> {
        Ok(DateTime(self.whole(ctx).await?.created_at))
    }

    async fn updated_at(&self, ctx: &Context<'_>) -> async_graphql::Result<DateTime> {
        Ok(DateTime(self.whole(ctx).await?.updated_at))
    }

    /// How many published posts the user has (whoever asks; one statement for every user of
    /// the request).
    async fn post_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let key = AuthorPostCountKey {
            author_id: self.user_id(),
            include_drafts: false,
        };
        let count = Box::pin(context::loaders(ctx)?.author_post_counts.load_one(key))
            .await
            .map_err(load_error)?;
        Ok(super::saturating_int(count.unwrap_or(0)))
    }

    /// The posts the user liked, the latest like first: only for the user themselves (null for
    /// anyone else, admins included); posts the user can no longer see are left out.
    async fn liked_posts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(page::DEFAULT_PAGE_SIZE)")] first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Option<InOrder<PostConnection>>> {
        let Some(viewer) = context::viewer(ctx).filter(|viewer| viewer.id == self.user_id()) else {
            return Ok(None);
        };
        let request = page_request(ctx, first, after, last, before)?;
        let page = context::read(ctx, |conn, _| Box::pin(likes::liked_by(conn, viewer, &request))).await?;
        Ok(Some(InOrder(PostConnection::new(
            page,
            |(post, cursor)| (cursor, PostObject::new(post)),
            TotalCount::LikedBy(viewer.clone()),
        ))))
    }

    /// The user's posts, newest first; drafts included for the user and admins.
    async fn posts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(page::DEFAULT_PAGE_SIZE)")] first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<InOrder<PostConnection>> {
        let request = page_request(ctx, first, after, last, before)?;
        Box::pin(self.post_page(ctx, request)).await.map(InOrder)
    }
}

impl UserObject {
    async fn post_page(
        &self,
        ctx: &Context<'_>,
        request: page::PageRequest,
    ) -> async_graphql::Result<PostConnection> {
        let author_id = self.user_id();
        let filter = posts::author_filter(context::viewer(ctx), author_id);
        let sort = posts::PostSort::Newest;
        // The first and the last page of every author in one statement (the loader); pages after
        // or before a cursor one by one.
        let page = if request.cursor.is_none() {
            context::loaders(ctx)?
                .author_posts
                .load_one(AuthorPostsKey {
                    author_id,
                    first: request.size,
                    include_drafts: filter.include_drafts,
                    direction: request.direction,
                })
                .await
                .map_err(load_error)?
                .map(|page| {
                    page.map(|post| {
                        let cursor = sort.cursor_of(&post, 0.0);
                        (post, cursor)
                    })
                })
                .unwrap_or_else(page::Page::empty)
        } else {
            let page = context::read(ctx, |conn, _| {
                Box::pin(posts::list(conn, &filter, sort, &request))
            })
            .await?;
            context::depends_on(ctx, sort.tags().iter().copied());
            context::depends_on(ctx, page.items.iter().map(|(post, _)| EntityTag::Post(post.id)));
            page
        };
        Ok(PostConnection::new(
            page,
            |(post, cursor)| (cursor, PostObject::with_author(post, self.clone())),
            TotalCount::AuthorPosts(AuthorPostCountKey {
                author_id,
                include_drafts: filter.include_drafts,
            }),
        ))
    }
}

/// The author of a post or comment: the one the statement that read it read too, when that
/// answers the selection; otherwise through the request's loaders, only the byline when the
/// selection asks no more of the author.
///
/// A byline read along and a whole row loaded for the same author come from two statements: a
/// profile changed between them shows in the whole row's fields only, as it would between two
/// requests.
pub async fn author_of(
    ctx: &Context<'_>,
    read_along: Option<&UserObject>,
    author_id: uuid::Uuid,
) -> async_graphql::Result<InOrder<UserObject>> {
    let author = match read_along {
        Some(whole @ UserObject::Whole(_)) => whole.clone(),
        Some(byline @ UserObject::Byline(_)) if UserObject::byline_suffices(ctx) => byline.clone(),
        Some(UserObject::Byline(_)) => UserObject::Whole(context::user(ctx, author_id).await?),
        None if UserObject::byline_suffices(ctx) => {
            UserObject::Byline(context::byline(ctx, author_id).await?)
        }
        None => UserObject::Whole(context::user(ctx, author_id).await?),
    };
    Ok(InOrder(author))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, Schema};

    use super::UserObject;

    /// What `byline_suffices` said for each `author` resolved.
    type Seen = Arc<Mutex<Vec<bool>>>;

    struct Author;

    #[Object(name = "User")]
    impl Author {
        async fn id(&self) -> &str {
            "1"
        }

        async fn username(&self) -> &str {
            "ann"
        }

        async fn full_name(&self) -> &str {
            "Ann"
        }

        async fn email(&self) -> Option<&str> {
            None
        }
    }

    struct Query;

    #[Object]
    impl Query {
        async fn author(&self, ctx: &Context<'_>) -> Author {
            let suffices = UserObject::byline_suffices(ctx);
            ctx.data_unchecked::<Seen>().lock().unwrap().push(suffices);
            Author
        }
    }

    async fn byline_suffices(query: &str) -> bool {
        let seen = Seen::default();
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
            .data(seen.clone())
            .finish();
        let response = schema.execute(query).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        seen[0]
    }

    #[tokio::test]
    async fn a_byline_suffices_only_when_every_selected_field_is_a_byline_field() {
        assert!(byline_suffices("{ author { id username fullName __typename } }").await);
        assert!(byline_suffices("{ author { name: username ...F } } fragment F on User { fullName }").await);
        assert!(byline_suffices("{ author { ... on User { id } } }").await);
        assert!(!byline_suffices("{ author { username email } }").await);
        assert!(!byline_suffices("{ author { ...F } } fragment F on User { email }").await);
        assert!(!byline_suffices("{ author { ... on User { id email } } }").await);
    }
}
