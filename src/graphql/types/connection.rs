//! Relay connections with keyset cursors; `totalCount` runs its query only when selected.

use async_graphql::{Context, Object, SimpleObject};

use super::{CommentObject, PostObject, UserObject, saturating_int};
use crate::domain::page::Page;
use crate::domain::posts::PostFilter;
use crate::domain::users::UserFilter;
use crate::domain::{posts, users};
use crate::graphql::context;

#[derive(SimpleObject, Clone)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

/// Where a connection's `totalCount` comes from.
#[derive(Clone)]
pub enum TotalCount {
    /// Already known (a stored counter).
    Known(i64),
    Posts(PostFilter),
    Users(UserFilter),
}

impl TotalCount {
    async fn resolve(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let total = match self {
            TotalCount::Known(n) => *n,
            TotalCount::Posts(filter) => posts::count(&mut *context::db(ctx).await?, filter).await?,
            TotalCount::Users(filter) => users::count(&mut *context::db(ctx).await?, filter).await?,
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

        #[derive(SimpleObject, Clone)]
        pub struct $edge {
            pub cursor: String,
            pub node: $node,
        }

        impl $conn {
            pub fn new<T>(
                page: Page<T>,
                cursor: impl Fn(&T) -> String,
                node: impl Fn(T) -> $node,
                total: TotalCount,
            ) -> Self {
                let edges: Vec<$edge> = page
                    .items
                    .into_iter()
                    .map(|item| $edge {
                        cursor: cursor(&item),
                        node: node(item),
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
            async fn edges(&self) -> &[$edge] {
                &self.edges
            }

            async fn nodes(&self) -> Vec<&$node> {
                self.edges.iter().map(|e| &e.node).collect()
            }

            async fn page_info(&self) -> &PageInfo {
                &self.page_info
            }

            /// Number of items in the whole list (a separate count query, run only when asked for).
            async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
                self.total.resolve(ctx).await
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
    UserConnection,
    UserEdge,
    UserObject,
    "A page of users, newest first."
);
