//! GraphQL enums and their domain counterparts (`remote` derives the conversions both ways, so
//! a variant added on one side and not the other fails to compile).

use async_graphql::Enum;

use crate::db::models;
use crate::domain::posts::PostSort as DomainSort;

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(name = "Category", remote = "models::Category")]
pub enum Category {
    Technology,
    Lifestyle,
    Business,
    Health,
    Education,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(name = "Role", remote = "models::Role")]
pub enum Role {
    User,
    Moderator,
    Admin,
}

/// Orders of post lists (the legacy sorts plus popularity).
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug, Default)]
#[graphql(name = "PostSort", remote = "DomainSort")]
pub enum PostSort {
    /// Newest first (legacy `-createdAt`).
    #[default]
    Newest,
    /// Oldest first (legacy `createdAt`).
    Oldest,
    /// Most recently updated first (legacy `-updatedAt`).
    UpdatedDesc,
    /// Least recently updated first (legacy `updatedAt`).
    UpdatedAsc,
    /// Title A-Z (legacy `title`).
    TitleAsc,
    /// Title Z-A (legacy `-title`).
    TitleDesc,
    /// views + 2 x likes + 3 x comments, highest first.
    Popular,
    /// Best full-text match first (needs `search`).
    Relevance,
}
