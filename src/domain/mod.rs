//! The service layer: every rule (validation, permissions, business logic) and every query,
//! shared by the GraphQL and REST doors. Functions take a connection and plain inputs.

pub mod accounts;
pub mod changes;
pub mod comments;
pub mod documents;
pub mod likes;
pub mod page;
pub mod page_marks;
pub mod posts;
pub mod sessions;
pub mod tags;
pub mod time;
pub mod users;
pub mod validate;
pub mod viewer;
