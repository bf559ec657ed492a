//! Users: lookups, the admin list, profile and account changes.

use chrono::Utc;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::accounts::{
    ProfileInput, check_distinct_username, check_email, check_profile, check_username, nonblank,
};
use super::changes::{EntityTag, TagSet};
use super::page::{Cursor, CursorKey, Page, PageRequest, keyset_page};
use super::validate::{check_lookup_text, contains_pattern};
use crate::db::models::{Role, User, UserByline};
use crate::db::schema::users;
use crate::domain::viewer::Viewer;
use crate::error::{AppError, AppResult, Denial, FieldErrors, Resource};
use crate::events::{Event, EventBus};

const CURSOR_TAG: &str = "users";

/// Users by id, in any order (for batch loaders).
pub async fn by_ids(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> AppResult<Vec<User>> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select(User::as_select())
        .load(conn)
        .await?)
}

/// The bylines of the given users (a list's authors).
pub async fn bylines_by_ids(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> AppResult<Vec<UserByline>> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select(UserByline::as_select())
        .load(conn)
        .await?)
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Option<User>> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn find_by_username(conn: &mut AsyncPgConnection, username: &str) -> AppResult<Option<User>> {
    check_lookup_text("username", username)?;
    Ok(users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The user behind an access token, refused when gone or deactivated.
pub async fn load_viewer(conn: &mut AsyncPgConnection, id: Uuid, token_issued_at: i64) -> AppResult<Viewer> {
    let row: Option<(Uuid, String, Role, bool)> = users::table
        .find(id)
        .select((users::id, users::username, users::role, users::is_active))
        .first(conn)
        .await
        .optional()?;
    match row {
        Some((id, username, role, true)) => Ok(Viewer {
            id,
            username,
            role,
            token_issued_at,
        }),
        _ => Err(AppError::Unauthenticated(crate::error::AuthFailure::UserInactive)),
    }
}

/// Admin-only guard used by every admin operation.
pub fn require_admin(viewer: &Viewer) -> AppResult<()> {
    if viewer.is_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden(Denial::InsufficientRole))
    }
}

/// The private part of a user's profile, as one viewer may see it.
#[derive(Clone, Copy)]
pub struct PrivateFields<'a> {
    pub email: &'a str,
    pub last_login: Option<chrono::DateTime<Utc>>,
}

/// The fields only the user and admins see; `None` for every other viewer (and anonymously).
pub fn private_fields<'a>(user: &'a User, viewer: Option<&Viewer>) -> Option<PrivateFields<'a>> {
    viewer
        .is_some_and(|v| v.sees_private_of(user.id))
        .then_some(PrivateFields {
            email: &user.email,
            last_login: user.last_login,
        })
}

/// Filters of the admin user list.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub role: Option<Role>,
    /// Case-insensitive substring of username, email or names.
    pub search: Option<String>,
}

impl UserFilter {
    /// The filter as both doors take it from clients: a blank search is no filter.
    pub fn new(role: Option<Role>, search: Option<String>) -> Self {
        UserFilter {
            role,
            search: search.filter(|s| !s.trim().is_empty()),
        }
    }
}

fn check_filter(filter: &UserFilter) -> AppResult<()> {
    match &filter.search {
        Some(search) => check_lookup_text("search", search),
        None => Ok(()),
    }
}

fn filtered(filter: &UserFilter) -> users::BoxedQuery<'static, Pg> {
    let mut query = users::table.into_boxed();
    if let Some(role) = filter.role {
        query = query.filter(users::role.eq(role));
    }
    if let Some(search) = &filter.search {
        let pattern = contains_pattern(search);
        query = query.filter(
            users::username
                .ilike(pattern.clone())
                .or(users::email.ilike(pattern.clone()))
                .or(users::first_name.ilike(pattern.clone()))
                .or(users::last_name.ilike(pattern)),
        );
    }
    query
}

/// A keyset page of users, newest first (admins only).
pub async fn list(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    filter: &UserFilter,
    request: &PageRequest,
) -> AppResult<Page<User>> {
    require_admin(viewer)?;
    check_filter(filter)?;
    let position = request
        .decode_cursor(CURSOR_TAG)?
        .and_then(|cursor| cursor.time_key());
    let query = keyset_page!(filtered(filter), users::created_at, users::id, descending: true, position, request.direction);
    let rows = query
        .limit(request.size + 1)
        .select(User::as_select())
        .load(conn)
        .await?;
    Ok(Page::from_rows(rows, request))
}

/// An offset page of users, newest first (the legacy REST pagination; admins only).
pub async fn list_offset(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    filter: &UserFilter,
    limit: i64,
    offset: i64,
) -> AppResult<(Vec<User>, i64)> {
    require_admin(viewer)?;
    check_filter(filter)?;
    let rows = filtered(filter)
        .order((users::created_at.desc(), users::id.asc()))
        .limit(limit)
        .offset(offset)
        .select(User::as_select())
        .load(conn)
        .await?;
    let total = filtered(filter).count().get_result(conn).await?;
    Ok((rows, total))
}

pub async fn count(conn: &mut AsyncPgConnection, filter: &UserFilter) -> AppResult<i64> {
    Ok(filtered(filter).count().get_result(conn).await?)
}

/// The cursor of a user in the admin list.
pub fn cursor_of(user: &User) -> Cursor {
    Cursor {
        tag: CURSOR_TAG,
        key: CursorKey::Time(user.created_at),
        id: user.id,
    }
}

/// Changes to an account (username, email, profile).
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub username: Option<String>,
    pub email: Option<String>,
    pub profile: Option<ProfileInput>,
}

#[derive(AsChangeset)]
#[diesel(table_name = users)]
struct UserRowChanges {
    username: Option<String>,
    email: Option<String>,
    first_name: Option<Option<String>>,
    last_name: Option<Option<String>>,
    avatar: Option<Option<String>>,
    bio: Option<Option<String>>,
    updated_at: chrono::DateTime<Utc>,
}

/// Updates a user's account (self or admin). Duplicate username or email is a CONFLICT.
#[tracing::instrument(skip_all, fields(user = %id, viewer = %viewer.id))]
pub async fn update(
    conn: &mut AsyncPgConnection,
    changed: &TagSet,
    viewer: &Viewer,
    id: Uuid,
    mut changes: UserChanges,
) -> AppResult<User> {
    // Validation first, as the legacy service's validators ran before its handler.
    check_changes(conn, id, &mut changes).await?;
    if !viewer.sees_private_of(id) {
        return Err(AppError::Forbidden(Denial::UpdateUser));
    }
    let profile = changes.profile.unwrap_or_default();
    let row = UserRowChanges {
        username: changes.username,
        email: changes.email,
        first_name: profile.first_name.map(nonblank),
        last_name: profile.last_name.map(nonblank),
        avatar: profile.avatar.map(nonblank),
        bio: profile.bio.map(nonblank),
        updated_at: Utc::now(),
    };
    let user = diesel::update(users::table.find(id))
        .set(&row)
        .returning(User::as_returning())
        .get_result(conn)
        .await
        .optional()?
        .ok_or(AppError::NotFound(Resource::User))?;
    // A new username changes lookups by username and the user lists.
    changed.extend([EntityTag::User(id), EntityTag::UserList]);
    Ok(user)
}

/// Checks and normalizes changes to user `id`'s account (trimmed, the email lowercased) without
/// writing anything: [`update`] runs it first, and a door that found errors of its own while
/// decoding runs it to report every failing field at once.
pub async fn check_changes(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: &mut UserChanges,
) -> AppResult<()> {
    let mut errors = FieldErrors::new();
    if let Some(username) = changes.username.as_mut() {
        *username = username.trim().to_owned();
        check_username(&mut errors, "username", username);
        if !errors.has("username") {
            let mut lookalike = FieldErrors::default();
            check_distinct_username(&mut lookalike, "username", username);
            // A name stored before the rule may be written again unchanged (legacy clients send
            // the whole account back); only a new name must pass it.
            if !lookalike.is_empty() && !has_username(conn, id, username).await? {
                errors.0.extend(lookalike.0);
            }
        }
    }
    if let Some(email) = changes.email.as_mut() {
        *email = email.trim().to_lowercase();
        check_email(&mut errors, "email", email);
    }
    if let Some(profile) = changes.profile.as_mut() {
        check_profile(&mut errors, profile);
    }
    errors.into_result()
}

/// Whether user `id` is named exactly `username` now.
async fn has_username(conn: &mut AsyncPgConnection, id: Uuid, username: &str) -> AppResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        users::table.find(id).filter(users::username.eq(username)),
    ))
    .get_result(conn)
    .await?)
}

/// Changes a user's role (admins only).
pub async fn set_role(
    conn: &mut AsyncPgConnection,
    events: &EventBus,
    changed: &TagSet,
    viewer: &Viewer,
    id: Uuid,
    role: Role,
) -> AppResult<User> {
    require_admin(viewer)?;
    let user = diesel::update(users::table.find(id))
        .set((users::role.eq(role), users::updated_at.eq(Utc::now())))
        .returning(User::as_returning())
        .get_result(conn)
        .await
        .optional()?
        .ok_or(AppError::NotFound(Resource::User))?;
    changed.extend([EntityTag::User(id), EntityTag::UserList]);
    events.publish(Event::UserChanged { user_id: id }).await;
    Ok(user)
}

/// Activates or deactivates a user (admins only). Deactivation ends every session of the user.
pub async fn set_active(
    conn: &mut AsyncPgConnection,
    events: &EventBus,
    changed: &TagSet,
    viewer: &Viewer,
    id: Uuid,
    active: bool,
) -> AppResult<User> {
    require_admin(viewer)?;
    use diesel_async::AsyncConnection;
    let user = conn
        .transaction(async move |conn| {
            let user = diesel::update(users::table.find(id))
                .set((users::is_active.eq(active), users::updated_at.eq(Utc::now())))
                .returning(User::as_returning())
                .get_result(conn)
                .await
                .optional()?
                .ok_or(AppError::NotFound(Resource::User))?;
            if !active {
                super::sessions::revoke_all_for_user(conn, id).await?;
            }
            Ok::<_, AppError>(user)
        })
        .await?;
    // A deactivated author's posts and comments leave every answer: no tag describes that.
    changed.add(EntityTag::All);
    events.publish(Event::UserChanged { user_id: id }).await;
    Ok(user)
}
