//! Legacy response shapes: camelCase fields, both `_id` and `id`, ISO-8601 UTC times.
//! Built from models with `From`, never by serializing a model.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};
use uuid::Uuid;

use super::contract::{CategoryName, RoleName};
use crate::db::models::{Comment, Post, User};
use crate::domain::sessions::{Session, Tokens};
use crate::domain::users;
use crate::domain::viewer::Viewer;
use crate::error::ErrorBody;

fn iso(time: DateTime<Utc>) -> String {
    crate::domain::time::rfc3339_millis(time)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShortProfile {
    first_name: Option<String>,
    last_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FullProfile {
    first_name: Option<String>,
    last_name: Option<String>,
    avatar: Option<String>,
    bio: Option<String>,
}

impl From<&User> for FullProfile {
    fn from(u: &User) -> Self {
        FullProfile {
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            avatar: u.avatar.clone(),
            bio: u.bio.clone(),
        }
    }
}

/// An author as embedded in lists and comments (`username profile.firstName profile.lastName`).
#[derive(Serialize, ToSchema)]
pub struct AuthorSummary {
    #[serde(rename = "_id")]
    underscore_id: Uuid,
    id: Uuid,
    username: String,
    profile: ShortProfile,
}

impl From<&User> for AuthorSummary {
    fn from(u: &User) -> Self {
        AuthorSummary {
            underscore_id: u.id,
            id: u.id,
            username: u.username.clone(),
            profile: ShortProfile {
                first_name: u.first_name.clone(),
                last_name: u.last_name.clone(),
            },
        }
    }
}

/// An author with the full profile (the post detail populates `username profile`).
#[derive(Serialize, ToSchema)]
pub struct AuthorDetail {
    #[serde(rename = "_id")]
    underscore_id: Uuid,
    id: Uuid,
    username: String,
    profile: FullProfile,
}

impl From<&User> for AuthorDetail {
    fn from(u: &User) -> Self {
        AuthorDetail {
            underscore_id: u.id,
            id: u.id,
            username: u.username.clone(),
            profile: u.into(),
        }
    }
}

/// A user document; email and last login only for the user and admins.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LegacyUser {
    #[serde(rename = "_id")]
    underscore_id: Uuid,
    id: Uuid,
    username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[schema(value_type = RoleName, example = "user")]
    role: &'static str,
    profile: FullProfile,
    full_name: String,
    is_active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    last_login: Option<Option<String>>,
    created_at: String,
    updated_at: String,
}

impl LegacyUser {
    pub fn new(user: &User, viewer: Option<&Viewer>) -> Self {
        let private = users::private_fields(user, viewer);
        LegacyUser {
            underscore_id: user.id,
            id: user.id,
            username: user.username.clone(),
            email: private.map(|p| p.email.to_owned()),
            role: user.role.as_str(),
            profile: user.into(),
            full_name: user.full_name(),
            is_active: user.is_active,
            last_login: private.map(|p| p.last_login.map(iso)),
            created_at: iso(user.created_at),
            updated_at: iso(user.updated_at),
        }
    }
}

/// The user object of register and login answers.
#[derive(Serialize, ToSchema)]
pub struct SessionUser {
    #[serde(rename = "_id")]
    underscore_id: Uuid,
    id: Uuid,
    username: String,
    email: String,
    #[schema(value_type = RoleName, example = "user")]
    role: &'static str,
    profile: FullProfile,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LegacyTokens {
    access_token: String,
    refresh_token: String,
}

impl From<Tokens> for LegacyTokens {
    fn from(t: Tokens) -> Self {
        LegacyTokens {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
        }
    }
}

/// `{success, message, user, tokens}`.
#[derive(Serialize, ToSchema)]
pub struct SessionEnvelope {
    success: bool,
    #[schema(value_type = String)]
    message: &'static str,
    user: SessionUser,
    tokens: LegacyTokens,
}

impl SessionEnvelope {
    pub fn new(session: Session, message: &'static str) -> Self {
        let user = &session.user;
        SessionEnvelope {
            success: true,
            message,
            user: SessionUser {
                underscore_id: user.id,
                id: user.id,
                username: user.username.clone(),
                email: user.email.clone(),
                role: user.role.as_str(),
                profile: user.into(),
            },
            tokens: session.tokens.into(),
        }
    }
}

/// A post as listed (author summary, counters, no comments).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostItem<A> {
    #[serde(rename = "_id")]
    underscore_id: Uuid,
    id: Uuid,
    title: String,
    content: String,
    #[schema(value_type = CategoryName, example = "technology")]
    category: &'static str,
    tags: Vec<String>,
    is_published: bool,
    views: i64,
    likes: i32,
    comment_count: i32,
    author: Option<A>,
    created_at: String,
    updated_at: String,
    /// From the title at creation, unique; `GET /api/posts/by-slug/{slug}` finds the post by it.
    slug: String,
    /// When the post was first published (ISO 8601), null while it never was.
    published_at: Option<String>,
    /// views + 2 x likes + 3 x comments: only in `GET /api/posts/popular` (the legacy aggregate
    /// adds it).
    #[serde(skip_serializing_if = "Option::is_none")]
    popularity: Option<i64>,
}

impl<A: Serialize> PostItem<A> {
    pub fn new(post: Post, author: Option<A>) -> Self {
        PostItem {
            underscore_id: post.id,
            id: post.id,
            title: post.title,
            content: post.content,
            category: post.category.as_str(),
            tags: post.tags,
            is_published: post.is_published,
            views: post.views,
            likes: post.likes_count,
            comment_count: post.comments_count,
            author,
            created_at: iso(post.created_at),
            updated_at: iso(post.updated_at),
            slug: post.slug,
            published_at: post.published_at.map(iso),
            popularity: None,
        }
    }
}

/// Renders the popular posts with their authors and their popularity.
pub fn popular_items(posts: Vec<Post>, authors: &HashMap<Uuid, User>) -> Vec<PostItem<AuthorSummary>> {
    posts
        .into_iter()
        .map(|p| {
            let popularity = Some(p.popularity);
            let author = authors.get(&p.author_id).map(AuthorSummary::from);
            PostItem {
                popularity,
                ..PostItem::new(p, author)
            }
        })
        .collect()
}

/// Renders posts with their authors from a user map.
pub fn post_items(posts: Vec<Post>, authors: &HashMap<Uuid, User>) -> Vec<PostItem<AuthorSummary>> {
    posts
        .into_iter()
        .map(|p| {
            let author = authors.get(&p.author_id).map(AuthorSummary::from);
            PostItem::new(p, author)
        })
        .collect()
}

/// A comment with its author summary.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LegacyComment {
    #[serde(rename = "_id")]
    underscore_id: Uuid,
    id: Uuid,
    content: String,
    author: Option<AuthorSummary>,
    post: Uuid,
    created_at: String,
    updated_at: String,
}

impl LegacyComment {
    pub fn new(comment: Comment, author: Option<&User>) -> Self {
        LegacyComment {
            underscore_id: comment.id,
            id: comment.id,
            content: comment.content,
            author: author.map(AuthorSummary::from),
            post: comment.post_id,
            created_at: iso(comment.created_at),
            updated_at: iso(comment.updated_at),
        }
    }
}

/// The post detail: the full author and every comment, oldest first.
#[derive(Serialize, ToSchema)]
pub struct PostDetail {
    #[serde(flatten)]
    post: PostItem<AuthorDetail>,
    comments: Vec<LegacyComment>,
}

impl PostDetail {
    pub fn new(post: Post, comments: Vec<Comment>, users: &HashMap<Uuid, User>) -> Self {
        let author = users.get(&post.author_id).map(AuthorDetail::from);
        PostDetail {
            post: PostItem::new(post, author),
            comments: comments
                .into_iter()
                .map(|c| {
                    let author = users.get(&c.author_id);
                    LegacyComment::new(c, author)
                })
                .collect(),
        }
    }
}

/// `{page, limit, total, pages}`.
#[derive(Serialize, ToSchema)]
pub struct Pagination {
    pub page: i64,
    pub limit: i64,
    pub total: i64,
    pub pages: i64,
}

impl Pagination {
    pub fn new(page: i64, limit: i64, total: i64) -> Self {
        Pagination {
            page,
            limit,
            total,
            pages: (total + limit - 1) / limit,
        }
    }
}

/// `{success: true, data}`, with a `message` on writes.
#[derive(Serialize, ToSchema)]
pub struct Envelope<T> {
    /// Always true.
    pub success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub data: T,
}

impl<T> Envelope<T> {
    pub fn data(data: T) -> Self {
        Envelope {
            success: true,
            message: None,
            data,
        }
    }

    pub fn with_message(message: &str, data: T) -> Self {
        Envelope {
            success: true,
            message: Some(message.to_owned()),
            data,
        }
    }
}

/// `{success: true, data: [...], pagination}`.
#[derive(Serialize, ToSchema)]
pub struct Paged<T> {
    /// Always true.
    pub success: bool,
    pub data: Vec<T>,
    pub pagination: Pagination,
}

/// `{success: true, message}`.
#[derive(Serialize, ToSchema)]
pub struct Message {
    /// Always true.
    pub success: bool,
    pub message: String,
}

impl Message {
    pub fn new(message: &str) -> Self {
        Message {
            success: true,
            message: message.to_owned(),
        }
    }
}

/// `{success: true, tokens}` (refresh).
#[derive(Serialize, ToSchema)]
pub struct TokensEnvelope {
    pub success: bool,
    pub tokens: LegacyTokens,
}

/// A post's like state after a like or unlike.
#[derive(Serialize, ToSchema)]
pub struct LikeState {
    pub likes: i32,
    pub liked: bool,
}

/// The error answers every route can give (legacy bodies, `{success: false, message}`).
#[derive(IntoResponses)]
#[allow(dead_code)] // describes responses; never constructed
pub enum LegacyErrors {
    /// Validation failed (with `errors`), malformed JSON, or a duplicate registration.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No token, a bad or expired token, or wrong credentials.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The caller may not do this (role, ownership, deactivated account).
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Unknown route, record, or malformed id ("Resource not found").
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The body is over 10 MB.
    #[response(status = 413)]
    PayloadTooLarge(ErrorBody),
    /// The body is not JSON.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    /// Rate limited; see Retry-After.
    #[response(status = 429)]
    TooManyRequests(ErrorBody),
    /// An unexpected failure (never with details).
    #[response(status = 500)]
    Internal(ErrorBody),
    /// The database is unreachable.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}
