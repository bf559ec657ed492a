//! GraphQL object, input and enum types. They wrap domain models; resolvers stay thin.

pub mod auth;
pub mod comment;
pub mod connection;
pub mod enums;
pub mod inputs;
pub mod post;
pub mod user;

pub use comment::CommentObject;
pub use connection::{CommentConnection, PostConnection, UserConnection};
pub use post::PostObject;
pub use user::UserObject;

/// Converts a 64-bit counter to a GraphQL `Int`, saturating at 2^31-1.
pub fn saturating_int(value: i64) -> i32 {
    i32::try_from(value).unwrap_or(if value < 0 { i32::MIN } else { i32::MAX })
}
