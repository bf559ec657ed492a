//! Rows as diesel reads and writes them. Never serialized to clients: the doors have their own types.

use chrono::{DateTime, Utc};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::prelude::*;
use diesel::serialize::{self, IsNull, Output, ToSql};
use std::io::Write;
use uuid::Uuid;

use super::schema::sql_types;
use super::schema::{comments, post_likes, posts, refresh_tokens, users};

/// Generates a Postgres enum mapping: the variants and their labels are listed once.
macro_rules! pg_enum {
    ($name:ident, $sql:ty, { $($variant:ident => $label:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
        #[diesel(sql_type = $sql)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The Postgres label, which is also the legacy REST spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            pub fn parse(label: &str) -> Option<Self> {
                match label { $($label => Some($name::$variant),)+ _ => None }
            }
        }

        impl ToSql<$sql, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                out.write_all(self.as_str().as_bytes())?;
                Ok(IsNull::No)
            }
        }

        impl FromSql<$sql, Pg> for $name {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                let label = std::str::from_utf8(bytes.as_bytes())?;
                Self::parse(label).ok_or_else(|| format!("unknown {} label {label:?}", stringify!($name)).into())
            }
        }
    };
}

pg_enum!(Role, sql_types::UserRole, { User => "user", Moderator => "moderator", Admin => "admin" });
pg_enum!(Category, sql_types::PostCategory, {
    Technology => "technology",
    Lifestyle => "lifestyle",
    Business => "business",
    Health => "health",
    Education => "education",
});

/// A user as every read sees it. The password hash is not part of it: only the login and the
/// password change read it (`sessions`), so no other statement sends it over the wire and no
/// answer can leak it.
#[derive(Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users, check_for_backend(Pg))]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub email: String,
    pub role: Role,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub avatar: Option<String>,
    pub bio: Option<String>,
    pub is_active: bool,
    pub last_login: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for User {
    // The email stays out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("is_active", &self.is_active)
            .finish_non_exhaustive()
    }
}

impl User {
    /// First and last name joined, as the legacy `fullName` virtual.
    pub fn full_name(&self) -> String {
        full_name(self.first_name.as_deref(), self.last_name.as_deref())
    }
}

/// What a byline shows of a user: the columns a post's or comment's author is almost always
/// asked for. Lists read these instead of whole rows (a nested page names a few hundred
/// authors); anything more about an author is read as a whole [`User`].
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(Pg))]
pub struct UserByline {
    pub id: Uuid,
    pub username: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

impl UserByline {
    /// As [`User::full_name`].
    pub fn full_name(&self) -> String {
        full_name(self.first_name.as_deref(), self.last_name.as_deref())
    }
}

fn full_name(first: Option<&str>, last: Option<&str>) -> String {
    format!("{} {}", first.unwrap_or(""), last.unwrap_or(""))
        .trim()
        .to_owned()
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: Uuid,
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub avatar: Option<&'a str>,
    pub bio: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = posts, check_for_backend(Pg))]
pub struct Post {
    pub id: Uuid,
    pub author_id: Uuid,
    pub title: String,
    pub content: String,
    pub category: Category,
    pub tags: Vec<String>,
    pub is_published: bool,
    pub views: i64,
    pub likes_count: i32,
    pub comments_count: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub popularity: i64,
    /// From the title at creation, unique, kept when the title changes (set by the database).
    pub slug: String,
    /// When the post was first published (set by the database); `None` while it never was.
    pub published_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = posts)]
pub struct NewPost<'a> {
    pub id: Uuid,
    pub author_id: Uuid,
    pub title: &'a str,
    pub content: &'a str,
    pub category: Category,
    pub tags: &'a [String],
    pub is_published: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = comments, check_for_backend(Pg))]
pub struct Comment {
    pub id: Uuid,
    pub post_id: Uuid,
    pub author_id: Uuid,
    pub content: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = comments)]
pub struct NewComment<'a> {
    pub id: Uuid,
    pub post_id: Uuid,
    pub author_id: Uuid,
    pub content: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = post_likes)]
pub struct NewLike {
    pub post_id: Uuid,
    pub user_id: Uuid,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens, check_for_backend(Pg))]
pub struct RefreshToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub family_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub token_hash: &'a str,
    pub family_id: Uuid,
    pub expires_at: DateTime<Utc>,
}
