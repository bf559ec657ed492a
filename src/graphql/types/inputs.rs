//! GraphQL input types and their conversion into service-layer inputs.

use async_graphql::InputObject;

use super::enums::Category;
use crate::domain::accounts::ProfileInput as DomainProfile;
use crate::domain::posts::PostInput;
use crate::domain::sessions::Registration;
use crate::domain::users::UserChanges;

#[derive(InputObject, Default)]
pub struct ProfileInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub avatar: Option<String>,
    pub bio: Option<String>,
}

impl From<ProfileInput> for DomainProfile {
    fn from(p: ProfileInput) -> Self {
        DomainProfile {
            first_name: p.first_name,
            last_name: p.last_name,
            avatar: p.avatar,
            bio: p.bio,
        }
    }
}

#[derive(InputObject)]
pub struct RegisterInput {
    pub username: String,
    pub email: String,
    #[graphql(secret)]
    pub password: String,
    pub profile: Option<ProfileInput>,
}

impl From<RegisterInput> for Registration {
    fn from(r: RegisterInput) -> Self {
        Registration {
            username: r.username,
            email: r.email,
            password: r.password,
            profile: r.profile.map(Into::into),
        }
    }
}

#[derive(InputObject)]
pub struct UpdateUserInput {
    pub username: Option<String>,
    pub email: Option<String>,
    pub profile: Option<ProfileInput>,
}

impl From<UpdateUserInput> for UserChanges {
    fn from(u: UpdateUserInput) -> Self {
        UserChanges {
            username: u.username,
            email: u.email,
            profile: u.profile.map(Into::into),
        }
    }
}

#[derive(InputObject)]
pub struct CreatePostInput {
    pub title: String,
    pub content: String,
    pub category: Category,
    pub tags: Option<Vec<String>>,
    pub is_published: Option<bool>,
}

impl From<CreatePostInput> for PostInput {
    fn from(p: CreatePostInput) -> Self {
        PostInput {
            title: Some(p.title),
            content: Some(p.content),
            category: Some(p.category.into()),
            tags: p.tags,
            is_published: p.is_published,
        }
    }
}

#[derive(InputObject)]
pub struct UpdatePostInput {
    pub title: Option<String>,
    pub content: Option<String>,
    pub category: Option<Category>,
    pub tags: Option<Vec<String>>,
    pub is_published: Option<bool>,
}

impl From<UpdatePostInput> for PostInput {
    fn from(p: UpdatePostInput) -> Self {
        PostInput {
            title: p.title,
            content: p.content,
            category: p.category.map(Into::into),
            tags: p.tags,
            is_published: p.is_published,
        }
    }
}
