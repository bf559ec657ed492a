//! Who is calling: the active user behind a valid access token, if any.

use uuid::Uuid;

use crate::db::models::Role;

/// An authenticated, active user, as loaded at the start of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub id: Uuid,
    pub username: String,
    pub role: Role,
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

/// Extracts the token of an `Authorization` header value; `None` when no token is given.
/// Like the legacy service, a bare token without the `Bearer ` prefix is accepted.
pub fn bearer_token(header: Option<&str>) -> Option<&str> {
    let value = header?.trim();
    let token = match value.get(..6) {
        Some(scheme)
            if scheme.eq_ignore_ascii_case("bearer")
                && value[6..].chars().next().is_none_or(char::is_whitespace) =>
        {
            value[6..].trim()
        }
        _ => value,
    };
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_extracted() {
        assert_eq!(bearer_token(None), None);
        assert_eq!(bearer_token(Some("")), None);
        assert_eq!(bearer_token(Some("Bearer ")), None);
        assert_eq!(bearer_token(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(Some("abc")), Some("abc"));
    }
}
