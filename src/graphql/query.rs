//! Query roots: users, posts, and any object by id.

use async_graphql::{Context, ID, MergedObject, Object};
use uuid::Uuid;

use super::context;
use super::types::connection::{TotalCount, page_request};
use super::types::enums::{Category, PostSort, Role};
use super::types::{
    CommentObject, InOrder, Node, PostConnection, PostObject, TagConnection, UserConnection, UserObject, node,
};
use crate::domain::changes::EntityTag;
use crate::domain::posts::{self, PostFilter, PostRef};
use crate::domain::users::{self, UserFilter};
use crate::domain::validate::parse_id;
use crate::domain::{page, tags};
use crate::error::FieldErrors;

/// Most ids one `nodes` call takes: a list is at most a page.
const MAX_NODE_IDS: usize = page::MAX_PAGE_SIZE as usize;

/// The refusal of a lookup given both or neither of its two ways to name a thing.
fn exactly_one_of(first: &str, second: &str) -> async_graphql::Error {
    FieldErrors::single(
        first,
        serde_json::Value::Null,
        &format!("Pass exactly one of {first} or {second}"),
    )
    .into()
}

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(UserQuery, PostQuery, NodeQuery, EntityQuery);

/// Apollo Federation's entity resolution: `User`, `Post` and `Comment` are entities keyed by
/// `id`, resolved by `_entities` through the same loaders and visibility rules as `node`, so a
/// batch of representations costs at most one statement per type. Only in the schema when
/// FEDERATION=true (`build_schema`); otherwise these resolvers are never reachable.
#[derive(Default)]
pub struct EntityQuery;

#[Object]
impl EntityQuery {
    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<UserObject>> {
        let id = parse_id(&id, "id")?;
        Ok(node::visible_users(ctx, &[id]).await?.remove(&id))
    }

    #[graphql(entity)]
    async fn find_post_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<PostObject>> {
        let id = parse_id(&id, "id")?;
        Ok(node::visible_posts(ctx, &[id]).await?.remove(&id))
    }

    #[graphql(entity)]
    async fn find_comment_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<CommentObject>> {
        let id = parse_id(&id, "id")?;
        Ok(node::visible_comments(ctx, &[id]).await?.remove(&id))
    }
}

/// Relay's Global Object Identification.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// A user, post or comment by its id; null when there is none the viewer may see (a draft
    /// is its author's, and so are its comments).
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        let id = parse_id(&id, "id")?;
        Ok(node::load(ctx, &[id]).await?.remove(&id))
    }

    /// The node of each id, in the order given (at most 100, costed by their number): null
    /// where there is none the viewer may see, and a malformed id is null with an error whose
    /// path points at its position.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Result<Node, async_graphql::Error>>>> {
        // An item that may fail alone is `Option<Result<..>>`: async-graphql's `Option` turns its
        // value's error into `null` plus the error at the item's path (a nullable item), while a
        // `Result` error fails the whole list, and is typed non-null accordingly.
        if ids.len() > MAX_NODE_IDS {
            return Err(FieldErrors::single(
                "ids",
                ids.len(),
                &format!("Pass at most {MAX_NODE_IDS} ids (got {})", ids.len()),
            )
            .into());
        }
        let parsed: Vec<_> = ids
            .iter()
            .enumerate()
            .map(|(at, id)| parse_id(id, &format!("ids[{at}]")))
            .collect();
        let valid: Vec<Uuid> = parsed.iter().filter_map(|id| id.as_ref().ok().copied()).collect();
        let found = node::load(ctx, &valid).await?;
        Ok(parsed
            .into_iter()
            .map(|id| match id {
                Ok(id) => found.get(&id).cloned().map(Ok),
                Err(error) => Some(Err(error.into())),
            })
            .collect())
    }
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The signed-in user, or null when anonymous.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<InOrder<UserObject>>> {
        let Some(viewer) = context::viewer(ctx) else {
            return Ok(None);
        };
        let user = context::loaders(ctx)?
            .users
            .load_one(viewer.id)
            .await
            .map_err(context::load_error)?;
        Ok(user.map(|user| InOrder(UserObject::Whole(user))))
    }

    /// A user by id or username (exactly one of them).
    async fn user(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        username: Option<String>,
    ) -> async_graphql::Result<Option<InOrder<UserObject>>> {
        let user = match (id, username) {
            (Some(id), None) => {
                let id = parse_id(&id, "id")?;
                context::loaders(ctx)?
                    .users
                    .load_one(id)
                    .await
                    .map_err(context::load_error)?
            }
            (None, Some(username)) => {
                let found =
                    context::read(ctx, |conn, _| Box::pin(users::find_by_username(conn, &username))).await?;
                // Which user has a name changes with registrations and renames.
                context::depends_on(ctx, [EntityTag::UserList]);
                context::depends_on(ctx, found.iter().map(|user| EntityTag::User(user.id)));
                found.map(Into::into)
            }
            _ => return Err(exactly_one_of("id", "username")),
        };
        Ok(user.map(|user| InOrder(UserObject::Whole(user))))
    }

    /// All users, newest first (admins only).
    #[allow(clippy::too_many_arguments)]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(page::DEFAULT_PAGE_SIZE)")] first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        role: Option<Role>,
        search: Option<String>,
    ) -> async_graphql::Result<InOrder<UserConnection>> {
        let viewer = context::require_viewer(ctx)?;
        let request = page_request(ctx, first, after, last, before)?;
        let filter = UserFilter::new(role.map(Into::into), search);
        let page = context::read(ctx, |conn, _| {
            Box::pin(users::list(conn, viewer, &filter, &request))
        })
        .await?;
        context::depends_on(ctx, [EntityTag::UserList]);
        context::depends_on(ctx, page.items.iter().map(|user| EntityTag::User(user.id)));
        Ok(InOrder(UserConnection::new(
            page,
            |user| (users::cursor_of(&user), UserObject::Whole(user.into())),
            TotalCount::Users(filter),
        )))
    }
}

#[derive(Default)]
pub struct PostQuery;

#[Object]
impl PostQuery {
    /// A post by id or by slug (exactly one of the two); drafts only for their author and
    /// admins, otherwise null.
    async fn post(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        slug: Option<String>,
    ) -> async_graphql::Result<Option<InOrder<PostObject>>> {
        let post = match (&id, &slug) {
            (Some(id), None) => PostRef::Id(parse_id(id, "id")?),
            (None, Some(slug)) => PostRef::Slug(slug),
            _ => return Err(exactly_one_of("id", "slug")),
        };
        let found = context::read(ctx, |conn, _| {
            Box::pin(posts::find_visible_with_author(conn, context::viewer(ctx), post))
        })
        .await?;
        // By id: that post, found or not. By slug: which post has it changes with the list.
        context::depends_on(
            ctx,
            [match post {
                PostRef::Id(id) => EntityTag::Post(id),
                PostRef::Slug(_) => EntityTag::PostList,
            }],
        );
        if let Some((post, author)) = &found {
            context::depends_on(ctx, [EntityTag::Post(post.id), EntityTag::User(author.id)]);
        }
        Ok(found
            .map(|(post, author)| InOrder(PostObject::with_author(post, UserObject::Whole(author.into())))))
    }

    /// Every tag of the published posts with how many carry it (a tag cloud, a tag page), in
    /// name order; `search` keeps the tags that contain it, in any case.
    async fn tags(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(page::DEFAULT_PAGE_SIZE)")] first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        search: Option<String>,
    ) -> async_graphql::Result<InOrder<TagConnection>> {
        let request = page_request(ctx, first, after, last, before)?;
        let page = context::read(ctx, |conn, _| {
            Box::pin(tags::list(conn, search.as_deref(), &request))
        })
        .await?;
        context::depends_on(ctx, [EntityTag::TagList]);
        Ok(InOrder(TagConnection::new(
            page,
            |tag| (tag.cursor(), tag.into()),
            TotalCount::Tags(search),
        )))
    }

    /// Published posts. Filters combine; `search` is full-text (web-search syntax: words,
    /// "quoted phrases", -excluded).
    #[allow(clippy::too_many_arguments)]
    async fn posts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(page::DEFAULT_PAGE_SIZE)")] first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        category: Option<Category>,
        author_id: Option<ID>,
        tag: Option<String>,
        search: Option<String>,
        #[graphql(default_with = "Some(PostSort::default())")] sort: Option<PostSort>,
    ) -> async_graphql::Result<InOrder<PostConnection>> {
        let request = page_request(ctx, first, after, last, before)?;
        let author_id = author_id.map(|id| parse_id(&id, "authorId")).transpose()?;
        let filter = PostFilter::published(category.map(Into::into), author_id, tag, search);
        let sort: posts::PostSort = sort.unwrap_or_default().into();
        let page = context::read(ctx, |conn, _| {
            Box::pin(posts::list(conn, &filter, sort, &request))
        })
        .await?;
        context::depends_on(ctx, sort.tags().iter().copied());
        context::depends_on(ctx, page.items.iter().map(|(post, _)| EntityTag::Post(post.id)));
        Ok(InOrder(PostConnection::new(
            page,
            |(post, cursor)| (cursor, PostObject::new(post)),
            TotalCount::Posts(filter),
        )))
    }

    /// The most popular published posts (views + 2 x likes + 3 x comments).
    async fn popular_posts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(page::DEFAULT_POPULAR_SIZE)")] limit: Option<i32>,
    ) -> async_graphql::Result<Vec<InOrder<PostObject>>> {
        let limit = page::page_size(limit, page::DEFAULT_POPULAR_SIZE, "limit")?;
        let rows = context::read(ctx, |conn, _| Box::pin(posts::popular(conn, limit))).await?;
        context::depends_on(ctx, [EntityTag::PostList, EntityTag::PostPopular]);
        context::depends_on(ctx, rows.iter().map(|post| EntityTag::Post(post.id)));
        Ok(rows
            .into_iter()
            .map(|post| InOrder(PostObject::new(post)))
            .collect())
    }
}
