//! GraphQL enums and their domain counterparts.

use async_graphql::Enum;

use crate::db::models;
use crate::domain::posts::PostSort as DomainSort;

macro_rules! mirror_enum {
    ($gql:ident, $domain:ty, [$($variant:ident),+ $(,)?]) => {
        impl From<$gql> for $domain {
            fn from(value: $gql) -> Self {
                match value { $($gql::$variant => <$domain>::$variant),+ }
            }
        }
        impl From<$domain> for $gql {
            fn from(value: $domain) -> Self {
                match value { $(<$domain>::$variant => $gql::$variant),+ }
            }
        }
    };
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(name = "Category")]
pub enum Category {
    Technology,
    Lifestyle,
    Business,
    Health,
    Education,
}
mirror_enum!(
    Category,
    models::Category,
    [Technology, Lifestyle, Business, Health, Education]
);

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(name = "Role")]
pub enum Role {
    User,
    Moderator,
    Admin,
}
mirror_enum!(Role, models::Role, [User, Moderator, Admin]);

/// Orders of post lists (the legacy sorts plus popularity).
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug, Default)]
#[graphql(name = "PostSort")]
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
mirror_enum!(
    PostSort,
    DomainSort,
    [
        Newest,
        Oldest,
        UpdatedDesc,
        UpdatedAsc,
        TitleAsc,
        TitleDesc,
        Popular,
        Relevance
    ]
);
