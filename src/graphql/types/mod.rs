//! GraphQL object, input and enum types. They wrap domain models; resolvers stay thin.
//!
//! Resolvers that await a loader or a query run that work in a `Box::pin`ned future.
//! async-graphql allocates the future of every field of an object at the size of that type's
//! largest resolver future: one unboxed query in `Post.comments` made each `Post.title` cost
//! a 2 KB allocation (and its copy), which dominated the nested query's time and memory.

pub mod auth;
pub mod comment;
pub mod connection;
pub mod enums;
pub mod in_order;
pub mod inputs;
pub mod node;
pub mod post;
pub mod scalars;
pub mod user;

pub use comment::CommentObject;
pub use connection::{CommentConnection, PostConnection, TagConnection, UserConnection};
pub use in_order::InOrder;
pub use node::Node;
pub use post::PostObject;
pub use user::UserObject;

/// Converts a 64-bit counter to a GraphQL `Int`, saturating at 2^31-1.
pub fn saturating_int(value: i64) -> i32 {
    i32::try_from(value).unwrap_or(if value < 0 { i32::MIN } else { i32::MAX })
}
