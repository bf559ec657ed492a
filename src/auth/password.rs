//! argon2id password hashing, run on the blocking pool so logins never stall async workers.

use std::sync::OnceLock;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;

/// OWASP's recommended argon2id setting: 19 MiB, 2 iterations, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// How many hashes may run at once: one core stays free for every other request (a burst of
/// logins queues here instead of starving reads), and at most that many 19 MiB work areas exist.
fn hash_permits() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Semaphore::new(cores.saturating_sub(1).max(1))
    })
}

/// Hashes a password into a PHC string.
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    let _permit = hash_permits().acquire().await?;
    tokio::task::spawn_blocking(move || hash_password_blocking(&password)).await?
}

/// The synchronous hash, for start-up and the seed command.
pub fn hash_password_blocking(password: &str) -> anyhow::Result<String> {
    PasswordHasher::<PasswordHash>::hash_password(&hasher(), password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// Checks a password against a PHC string; a malformed hash simply does not match.
pub async fn verify_password(password: String, hash: String) -> anyhow::Result<bool> {
    let _permit = hash_permits().acquire().await?;
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        hasher().verify_password(password.as_bytes(), &parsed).is_ok()
    })
    .await
    .map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_only_their_password() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            verify_password("correct horse".into(), hash.clone())
                .await
                .unwrap()
        );
        assert!(!verify_password("wrong horse".into(), hash).await.unwrap());
        assert!(!verify_password("x".into(), "not a hash".into()).await.unwrap());
    }
}
