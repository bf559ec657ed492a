//! Relay connections with keyset cursors. Nothing is computed before it is selected:
//! `totalCount` runs its query, and cursors are encoded, only when asked for (most clients
//! read `nodes` and one `endCursor`; encoding every edge's cursor cost 7 % of a nested query).

use async_graphql::{Context, Object, SimpleObject};

use super::{CommentObject, InOrder, PostObject, UserObject, saturating_int};
use crate::domain::changes::EntityTag;
use crate::domain::page::{Cursor, Page, PageRequest};
use crate::domain::posts::PostFilter;
use crate::domain::users::UserFilter;
use crate::domain::viewer::Viewer;
use crate::domain::{likes, posts, tags, users};
use crate::graphql::context;
use crate::graphql::loaders::AuthorPostCountKey;

/// The page a connection field asks for: `first`/`after` forward or `last`/`before` backward.
/// `first` counts as given only when the document gives it, so that its schema default (20)
/// never clashes with a `last` (reading the arguments again only when `last` or `before` is
/// there: the forward path stays as it was).
pub fn page_request(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> async_graphql::Result<PageRequest> {
    if last.is_none() && before.is_none() {
        return Ok(PageRequest::new(first, after, None, None)?);
    }
    let first_given = ctx.field().arguments().is_ok_and(|arguments| {
        arguments
            .iter()
            .any(|(name, value)| name.as_str() == "first" && *value != async_graphql::Value::Null)
    });
    Ok(PageRequest::new(
        first.filter(|_| first_given),
        after,
        last,
        before,
    )?)
}

/// A tag of published posts.
#[derive(SimpleObject)]
#[graphql(name = "Tag")]
pub struct TagObject {
    pub name: String,
    /// How many published posts carry the tag (`posts(tag:)` lists them).
    pub post_count: i32,
}

impl From<tags::TagCount> for TagObject {
    fn from(tag: tags::TagCount) -> Self {
        TagObject {
            name: tag.name,
            post_count: saturating_int(tag.post_count),
        }
    }
}

pub struct PageInfo {
    has_next_page: bool,
    has_previous_page: bool,
    start_cursor: Option<Cursor>,
    end_cursor: Option<Cursor>,
}

#[Object]
impl PageInfo {
    async fn has_next_page(&self) -> bool {
        self.has_next_page
    }

    async fn has_previous_page(&self) -> bool {
        self.has_previous_page
    }

    async fn start_cursor(&self) -> Option<String> {
        self.start_cursor.as_ref().map(Cursor::encode)
    }

    async fn end_cursor(&self) -> Option<String> {
        self.end_cursor.as_ref().map(Cursor::encode)
    }
}

/// Where a connection's `totalCount` comes from.
#[derive(Clone)]
pub enum TotalCount {
    /// Already known (a stored counter).
    Known(i64),
    Posts(PostFilter),
    /// One author's posts: counted for every author of the document in one statement.
    AuthorPosts(AuthorPostCountKey),
    Users(UserFilter),
    /// The posts the viewer liked and can see.
    LikedBy(Viewer),
    /// The tags matching a search.
    Tags(Option<String>),
}

impl TotalCount {
    async fn resolve(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let total = match self {
            TotalCount::Known(n) => *n,
            TotalCount::Posts(filter) => {
                context::depends_on(ctx, [EntityTag::PostList]);
                context::read(ctx, |conn, _| Box::pin(posts::count(conn, filter))).await?
            }
            TotalCount::AuthorPosts(key) => context::loaders(ctx)?
                .author_post_counts
                .load_one(*key)
                .await
                .map_err(context::load_error)?
                .unwrap_or(0),
            TotalCount::Users(filter) => {
                context::depends_on(ctx, [EntityTag::UserList]);
                context::read(ctx, |conn, _| Box::pin(users::count(conn, filter))).await?
            }
            TotalCount::Tags(search) => {
                context::depends_on(ctx, [EntityTag::TagList]);
                context::read(ctx, |conn, _| Box::pin(tags::count(conn, search.as_deref()))).await?
            }
            TotalCount::LikedBy(viewer) => {
                context::read(ctx, |conn, _| Box::pin(likes::count_liked_by(conn, viewer))).await?
            }
        };
        Ok(saturating_int(total))
    }
}

macro_rules! connection {
    ($conn:ident, $edge:ident, $node:ty, $doc:literal) => {
        #[doc = $doc]
        pub struct $conn {
            edges: Vec<$edge>,
            page_info: PageInfo,
            total: TotalCount,
        }

        pub struct $edge {
            cursor: Cursor,
            node: $node,
        }

        #[Object]
        impl $edge {
            async fn cursor(&self) -> String {
                self.cursor.encode()
            }

            async fn node(&self) -> InOrder<&$node> {
                InOrder(&self.node)
            }
        }

        impl $conn {
            /// `edge` turns one item of the page into its position and its node.
            pub fn new<T>(page: Page<T>, edge: impl Fn(T) -> (Cursor, $node), total: TotalCount) -> Self {
                let edges: Vec<$edge> = page
                    .items
                    .into_iter()
                    .map(|item| {
                        let (cursor, node) = edge(item);
                        $edge { cursor, node }
                    })
                    .collect();
                let page_info = PageInfo {
                    has_next_page: page.has_next,
                    has_previous_page: page.has_previous,
                    start_cursor: edges.first().map(|e| e.cursor.clone()),
                    end_cursor: edges.last().map(|e| e.cursor.clone()),
                };
                Self {
                    edges,
                    page_info,
                    total,
                }
            }
        }

        #[Object]
        impl $conn {
            async fn edges(&self) -> Vec<InOrder<&$edge>> {
                self.edges.iter().map(InOrder).collect()
            }

            async fn nodes(&self) -> Vec<InOrder<&$node>> {
                self.edges.iter().map(|e| InOrder(&e.node)).collect()
            }

            async fn page_info(&self) -> InOrder<&PageInfo> {
                InOrder(&self.page_info)
            }

            /// Number of items in the whole list (a separate count query, run only when asked for).
            async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
                Box::pin(self.total.resolve(ctx)).await
            }
        }
    };
}

connection!(PostConnection, PostEdge, PostObject, "A page of posts.");
connection!(
    CommentConnection,
    CommentEdge,
    CommentObject,
    "A page of comments, oldest first."
);
connection!(
    TagConnection,
    TagEdge,
    TagObject,
    "A page of tags, in name order."
);
connection!(
    UserConnection,
    UserEdge,
    UserObject,
    "A page of users, newest first."
);
