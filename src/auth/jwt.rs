//! HS256 access tokens with a pinned algorithm.

use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::models::User;
use crate::error::AuthFailure;

/// The claims of an access token (the legacy `id`, `username`, `role`, plus `sub`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub id: Uuid,
    pub username: String,
    pub role: String,
    pub iat: i64,
    pub exp: i64,
}

/// Signing and verification keys; the secret itself is not kept nor printable.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    lifetime: Duration,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    pub fn new(secret: &[u8], lifetime: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        // A token not valid yet is refused too (`nbf`), not only an expired one.
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            lifetime,
        }
    }

    /// Access-token lifetime in seconds (the GraphQL `expiresIn`).
    pub fn lifetime_secs(&self) -> u64 {
        self.lifetime.as_secs()
    }

    pub fn issue(&self, user: &User) -> anyhow::Result<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user.id,
            id: user.id,
            username: user.username.clone(),
            role: user.role.as_str().to_owned(),
            iat: now,
            exp: now + i64::try_from(self.lifetime.as_secs()).unwrap_or(i64::MAX / 2),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// Verifies signature, algorithm, expiry and `nbf`; refuses a token issued in the future
    /// (`iat`) and one with a `crit` header (RFC 7515 4.1.11: this server understands no
    /// extension, so it must refuse any it is told is critical).
    pub fn verify(&self, token: &str) -> Result<Claims, AuthFailure> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthFailure::InvalidToken)?;
        if header.crit.is_some() {
            return Err(AuthFailure::InvalidToken);
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthFailure::ExpiredToken,
                _ => AuthFailure::InvalidToken,
            })?;
        // A minute of clock skew between instances is allowed.
        if claims.iat > Utc::now().timestamp() + 60 {
            return Err(AuthFailure::InvalidToken);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::models::Role;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn user() -> User {
        User {
            id: Uuid::now_v7(),
            username: "ann".into(),
            email: "ann@example.com".into(),
            role: Role::User,
            first_name: None,
            last_name: None,
            avatar: None,
            bio: None,
            is_active: true,
            last_login: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn a_fresh_token_round_trips() {
        let keys = JwtKeys::new(b"secret-secret-secret-secret-secret", Duration::from_secs(60));
        let user = user();
        let claims = keys.verify(&keys.issue(&user).unwrap()).unwrap();
        assert_eq!(claims.sub, user.id);
        assert_eq!(claims.role, "user");
        assert_eq!(claims.exp - claims.iat, 60);
    }

    /// Issue 18, item 11: `nbf` and `iat` in the future and an unknown `crit` header were
    /// accepted.
    #[test]
    fn tokens_from_the_future_and_critical_extensions_are_rejected() {
        let secret = b"secret-secret-secret-secret-secret";
        let keys = JwtKeys::new(secret, Duration::from_secs(60));
        let user = user();
        let now = Utc::now().timestamp();
        let sign = |header: Header, claims: serde_json::Value| {
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret)).unwrap()
        };
        let claims = |extra: serde_json::Value| {
            let mut base = serde_json::json!({ "sub": user.id, "id": user.id, "username": "ann",
                "role": "user", "iat": now, "exp": now + 60 });
            base.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            base
        };
        let plain = Header::new(Algorithm::HS256);
        assert!(
            keys.verify(&sign(plain.clone(), claims(serde_json::json!({}))))
                .is_ok()
        );
        let not_yet = sign(plain.clone(), claims(serde_json::json!({ "nbf": now + 3600 })));
        assert_eq!(keys.verify(&not_yet).unwrap_err(), AuthFailure::InvalidToken);
        let future = sign(plain.clone(), claims(serde_json::json!({ "iat": now + 3600 })));
        assert_eq!(keys.verify(&future).unwrap_err(), AuthFailure::InvalidToken);
        let mut critical = plain;
        critical.crit = Some(vec!["exp".to_owned()]);
        let critical = sign(critical, claims(serde_json::json!({})));
        assert_eq!(keys.verify(&critical).unwrap_err(), AuthFailure::InvalidToken);
    }

    #[test]
    fn forged_tokens_are_rejected() {
        let keys = JwtKeys::new(b"secret-secret-secret-secret-secret", Duration::from_secs(60));
        let other = JwtKeys::new(b"another-secret-another-secret-xx", Duration::from_secs(60));
        let token = other.issue(&user()).unwrap();
        assert_eq!(keys.verify(&token).unwrap_err(), AuthFailure::InvalidToken);

        let good = keys.issue(&user()).unwrap();
        let parts: Vec<&str> = good.split('.').collect();
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{none_header}.{}.", parts[1]);
        assert_eq!(keys.verify(&unsigned).unwrap_err(), AuthFailure::InvalidToken);

        let tampered_payload = URL_SAFE_NO_PAD.encode(
            String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap())
                .unwrap()
                .replace("\"user\"", "\"admin\""),
        );
        let tampered = format!("{}.{tampered_payload}.{}", parts[0], parts[2]);
        assert_eq!(keys.verify(&tampered).unwrap_err(), AuthFailure::InvalidToken);
    }
}
