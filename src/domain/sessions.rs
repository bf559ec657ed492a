//! Sessions: register, login, refresh-token rotation with reuse detection, logout, passwords.
//!
//! The functions that hash or verify a password take the pool instead of a connection: they
//! check a connection out only around their queries, so that logins waiting for the hashing
//! permit never hold pooled connections that every other request needs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration as ChronoDuration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use rand::RngCore;
use uuid::Uuid;

use super::accounts::{
    ProfileInput, check_distinct_username, check_email, check_password, check_profile, check_username,
    nonblank,
};
use super::changes::{EntityTag, TagSet};
use super::validate::check_lookup_text;
use crate::auth::jwt::JwtKeys;
use crate::auth::password::{hash_password, verify_password};
use crate::db::DbPool;
use crate::db::models::{NewRefreshToken, NewUser, RefreshToken, Role, User};
use crate::db::schema::{refresh_tokens, users};
use crate::db::sql::username_key;
use crate::domain::viewer::Viewer;
use crate::error::{AppError, AppResult, AuthFailure, Denial, FieldErrors};
use crate::ratelimit::AuthAttempt;

/// How long a refresh token stays valid without use.
pub const REFRESH_TOKEN_DAYS: i64 = 7;

/// A signed-in user with fresh tokens.
pub struct Session {
    pub user: User,
    pub tokens: Tokens,
}

/// An access token and its rotating refresh token.
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    /// Access-token lifetime in seconds.
    pub expires_in: u64,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// A registration as a client sent it.
#[derive(Clone, Default)]
pub struct Registration {
    pub username: String,
    pub email: String,
    pub password: String,
    pub profile: Option<ProfileInput>,
}

/// A refresh token as stored: only its hash, so a leaked table signs no one in.
fn hash_token(token: &str) -> String {
    crate::digest::sha256_hex(token)
}

fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Stores a new refresh token of `family_id` for `user` and issues the pair.
async fn issue_tokens(
    conn: &mut AsyncPgConnection,
    keys: &JwtKeys,
    user: &User,
    family_id: Uuid,
) -> AppResult<Tokens> {
    let refresh_token = new_refresh_token();
    let token_hash = hash_token(&refresh_token);
    diesel::insert_into(refresh_tokens::table)
        .values(NewRefreshToken {
            id: Uuid::now_v7(),
            user_id: user.id,
            token_hash: &token_hash,
            family_id,
            expires_at: Utc::now() + ChronoDuration::days(REFRESH_TOKEN_DAYS),
        })
        .execute(conn)
        .await?;
    Ok(Tokens {
        access_token: keys.issue(user).map_err(AppError::internal)?,
        refresh_token,
        expires_in: keys.lifetime_secs(),
    })
}

/// Charges a registration attempt to its address and account (against brute force), then
/// checks and normalizes it (trimmed, the email lowercased), writing nothing: [`register`] runs
/// it, and a door that found errors of its own while decoding runs it to report every failing
/// field at once, charged like any attempt.
pub async fn check_registration(attempt: &AuthAttempt<'_>, input: &mut Registration) -> AppResult<()> {
    attempt.check(&input.email).await?;
    let mut errors = FieldErrors::new();
    input.username = input.username.trim().to_owned();
    input.email = input.email.trim().to_lowercase();
    check_username(&mut errors, "username", &input.username);
    if !errors.has("username") {
        check_distinct_username(&mut errors, "username", &input.username);
    }
    check_email(&mut errors, "email", &input.email);
    check_password(&mut errors, "password", &input.password);
    check_profile(&mut errors, input.profile.get_or_insert_with(Default::default));
    errors.into_result()
}

/// Registers a user (role `user`) and signs them in.
#[tracing::instrument(skip_all)]
pub async fn register(
    db: &DbPool,
    keys: &JwtKeys,
    changed: &TagSet,
    attempt: &AuthAttempt<'_>,
    mut input: Registration,
) -> AppResult<Session> {
    check_registration(attempt, &mut input).await?;
    let profile = input.profile.take().unwrap_or_default();

    let taken: bool = diesel::select(diesel::dsl::exists(
        users::table.filter(
            users::email
                .eq(&input.email)
                .or(users::username_key.eq(username_key(&input.username).nullable())),
        ),
    ))
    .get_result(&mut *db.get().await?)
    .await?;
    if taken {
        return Err(AppError::Conflict);
    }
    let password_hash = hash_password(input.password).await.map_err(AppError::internal)?;
    let mut conn = db.get().await?;
    let (first_name, last_name, avatar, bio) = (
        profile.first_name.and_then(nonblank),
        profile.last_name.and_then(nonblank),
        profile.avatar.and_then(nonblank),
        profile.bio.and_then(nonblank),
    );
    conn.transaction(async move |conn| {
        let user: User = diesel::insert_into(users::table)
            .values(NewUser {
                id: Uuid::now_v7(),
                username: &input.username,
                email: &input.email,
                password_hash: &password_hash,
                role: Role::User,
                first_name: first_name.as_deref(),
                last_name: last_name.as_deref(),
                avatar: avatar.as_deref(),
                bio: bio.as_deref(),
            })
            .returning(User::as_returning())
            .get_result(conn)
            .await?;
        let tokens = issue_tokens(conn, keys, &user, Uuid::now_v7()).await?;
        Ok::<_, AppError>(Session { user, tokens })
    })
    .await
    .inspect(|session| changed.extend([EntityTag::User(session.user.id), EntityTag::UserList]))
}

/// Signs a user in by email and password. An unknown email costs one hash check too.
#[tracing::instrument(skip_all)]
pub async fn login(
    db: &DbPool,
    keys: &JwtKeys,
    dummy_hash: &str,
    attempt: &AuthAttempt<'_>,
    email: &str,
    password: &str,
) -> AppResult<Session> {
    attempt.check(email).await?;
    check_lookup_text("email", email)?;
    let email = email.trim().to_lowercase();
    let found: Option<(User, String)> = users::table
        .filter(users::email.eq(&email))
        .select((User::as_select(), users::password_hash))
        .first(&mut *db.get().await?)
        .await
        .optional()?;
    let hash = found
        .as_ref()
        .map_or(dummy_hash, |(_, hash)| hash.as_str())
        .to_owned();
    let matches = verify_password(password.to_owned(), hash)
        .await
        .map_err(AppError::internal)?;
    let user = match found {
        Some((user, _)) if matches => user,
        _ => return Err(AppError::Unauthenticated(AuthFailure::InvalidCredentials)),
    };
    if !user.is_active {
        return Err(AppError::Forbidden(Denial::AccountDeactivated));
    }
    let mut conn = db.get().await?;
    conn.transaction(async move |conn| {
        let user: User = diesel::update(users::table.find(user.id))
            .set(users::last_login.eq(Utc::now()))
            .returning(User::as_returning())
            .get_result(conn)
            .await?;
        let tokens = issue_tokens(conn, keys, &user, Uuid::now_v7()).await?;
        Ok(Session { user, tokens })
    })
    .await
}

enum Rotation {
    Rotated(Box<Session>),
    Reused,
    Invalid,
}

/// Exchanges a refresh token for a new pair. The old token stops working; presenting a token
/// that was already rotated revokes its whole family (a stolen copy is then useless too).
#[tracing::instrument(skip_all)]
pub async fn refresh(
    conn: &mut AsyncPgConnection,
    keys: &JwtKeys,
    refresh_token: &str,
) -> AppResult<Session> {
    if refresh_token.trim().is_empty() {
        return Err(AppError::Unauthenticated(AuthFailure::RefreshTokenRequired));
    }
    let token_hash = hash_token(refresh_token.trim());
    let outcome = conn
        .transaction(async move |conn| {
            // The row lock makes two concurrent refreshes with one token resolve in order:
            // the first rotates, the second sees a revoked token.
            let Some(row) = refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(&token_hash))
                .select(RefreshToken::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?
            else {
                return Ok::<_, AppError>(Rotation::Invalid);
            };
            let now = Utc::now();
            if row.revoked_at.is_some() {
                diesel::update(
                    refresh_tokens::table
                        .filter(refresh_tokens::family_id.eq(row.family_id))
                        .filter(refresh_tokens::revoked_at.is_null()),
                )
                .set(refresh_tokens::revoked_at.eq(now))
                .execute(conn)
                .await?;
                return Ok(Rotation::Reused);
            }
            if row.expires_at <= now {
                return Ok(Rotation::Invalid);
            }
            let user = users::table
                .find(row.user_id)
                .select(User::as_select())
                .first(conn)
                .await
                .optional()?
                .filter(|u| u.is_active);
            let Some(user) = user else {
                return Ok(Rotation::Invalid);
            };
            diesel::update(refresh_tokens::table.find(row.id))
                .set(refresh_tokens::revoked_at.eq(now))
                .execute(conn)
                .await?;
            let tokens = issue_tokens(conn, keys, &user, row.family_id).await?;
            Ok(Rotation::Rotated(Box::new(Session { user, tokens })))
        })
        .await?;
    match outcome {
        Rotation::Rotated(session) => Ok(*session),
        Rotation::Reused => {
            tracing::warn!("refresh token reused: its family was revoked");
            Err(AppError::Unauthenticated(AuthFailure::InvalidRefreshToken))
        }
        Rotation::Invalid => Err(AppError::Unauthenticated(AuthFailure::InvalidRefreshToken)),
    }
}

/// Revokes one of the viewer's refresh tokens, or all of them when none is given.
pub async fn logout(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    refresh_token: Option<&str>,
) -> AppResult<()> {
    match refresh_token.map(str::trim).filter(|t| !t.is_empty()) {
        Some(token) => {
            diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::token_hash.eq(hash_token(token)))
                    .filter(refresh_tokens::user_id.eq(viewer.id))
                    .filter(refresh_tokens::revoked_at.is_null()),
            )
            .set(refresh_tokens::revoked_at.eq(Utc::now()))
            .execute(conn)
            .await?;
        }
        None => revoke_all_for_user(conn, viewer.id).await?,
    }
    Ok(())
}

/// Revokes every live refresh token of a user.
pub async fn revoke_all_for_user(conn: &mut AsyncPgConnection, user_id: Uuid) -> AppResult<()> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Utc::now()))
    .execute(conn)
    .await?;
    Ok(())
}

/// Changes the viewer's password after checking the current one; ends every session.
pub async fn change_password(
    db: &DbPool,
    changed: &TagSet,
    viewer: &Viewer,
    current_password: &str,
    new_password: &str,
) -> AppResult<()> {
    let mut errors = FieldErrors::new();
    check_password(&mut errors, "newPassword", new_password);
    errors.into_result()?;
    let hash: String = users::table
        .find(viewer.id)
        .select(users::password_hash)
        .first(&mut *db.get().await?)
        .await?;
    if !verify_password(current_password.to_owned(), hash)
        .await
        .map_err(AppError::internal)?
    {
        return Err(FieldErrors::single(
            "currentPassword",
            "",
            "Current password is incorrect",
        ));
    }
    let new_hash = hash_password(new_password.to_owned())
        .await
        .map_err(AppError::internal)?;
    let viewer_id = viewer.id;
    let mut conn = db.get().await?;
    conn.transaction(async move |conn| {
        diesel::update(users::table.find(viewer_id))
            .set((
                users::password_hash.eq(new_hash),
                users::updated_at.eq(Utc::now()),
            ))
            .execute(conn)
            .await?;
        revoke_all_for_user(conn, viewer_id).await
    })
    .await?;
    // Readers see the account's updatedAt move.
    changed.add(EntityTag::User(viewer_id));
    Ok(())
}

/// Deletes refresh-token rows past their expiry (revoked ones are kept until then, so that a
/// replayed token is still recognised and its family revoked).
pub async fn purge_expired(conn: &mut AsyncPgConnection) -> AppResult<usize> {
    Ok(
        diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.lt(Utc::now())))
            .execute(conn)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_long_and_hashed() {
        let token = new_refresh_token();
        assert!(URL_SAFE_NO_PAD.decode(&token).unwrap().len() >= 32);
        let hash = hash_token(&token);
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, token);
        assert_ne!(new_refresh_token(), token);
    }
}
