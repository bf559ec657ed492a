//! Who is calling: the active user behind a valid access token (the doors resolve it,
//! `http::caller`; the services decide with it).

use uuid::Uuid;

use crate::db::models::Role;

/// An authenticated, active user, as loaded at the start of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub id: Uuid,
    pub username: String,
    pub role: Role,
    /// When the caller's access token was issued (unix seconds): a token younger than the
    /// replicas' lag bound reads from the primary (`db::replicas`).
    pub token_issued_at: i64,
}

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn is_moderator(&self) -> bool {
        matches!(self.role, Role::Moderator | Role::Admin)
    }

    /// Whether the viewer may see private data (drafts, email) of `user_id`.
    pub fn sees_private_of(&self, user_id: Uuid) -> bool {
        self.id == user_id || self.is_admin()
    }
}
