//! Results of the sign-in mutations.

use async_graphql::SimpleObject;

use super::{InOrder, UserObject};
use crate::domain::sessions::{Session, Tokens};

#[derive(SimpleObject)]
pub struct AuthTokens {
    pub access_token: String,
    pub refresh_token: String,
    /// Access-token lifetime in seconds.
    pub expires_in: i32,
    /// Always "Bearer".
    pub token_type: &'static str,
}

#[derive(SimpleObject)]
pub struct AuthPayload {
    pub user: InOrder<UserObject>,
    pub tokens: AuthTokens,
}

impl From<Tokens> for AuthTokens {
    fn from(t: Tokens) -> Self {
        AuthTokens {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            expires_in: i32::try_from(t.expires_in).unwrap_or(i32::MAX),
            token_type: "Bearer",
        }
    }
}

impl From<Session> for AuthPayload {
    fn from(s: Session) -> Self {
        AuthPayload {
            user: InOrder(UserObject::Whole(s.user.into())),
            tokens: s.tokens.into(),
        }
    }
}
