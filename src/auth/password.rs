//! argon2id password hashing, run on the blocking pool so logins never stall async workers.

use std::sync::{Mutex, OnceLock, PoisonError};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::password_hash::{self, CustomizedPasswordHasher, PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

/// OWASP's recommended argon2id setting: 19 MiB, 2 iterations, 1 lane.
fn params() -> Params {
    Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid")
}

/// argon2 computed in work areas that are kept and reused: one per hash running at once, which
/// the hashing permits bound.
///
/// argon2's own hasher allocates its 19 MiB work area for every hash. The allocator keeps a
/// freed area for later instead of returning it, and a hash on another blocking thread then
/// allocated a new one beside it: a burst of logins held about twice the memory it needed.
struct PooledArgon2;

/// The work areas not in use.
static WORK_AREAS: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

fn with_work_area<T>(blocks: usize, hash: impl FnOnce(&mut [Block]) -> T) -> T {
    let mut area = WORK_AREAS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop()
        .unwrap_or_default();
    // argon2 writes every block before reading it, so a reused area needs no clearing.
    if area.len() < blocks {
        area.resize(blocks, Block::new());
    }
    let result = hash(&mut area[..blocks]);
    WORK_AREAS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(area);
    result
}

impl CustomizedPasswordHasher<PasswordHash> for PooledArgon2 {
    type Params = Params;

    fn hash_password_customized(
        &self,
        password: &[u8],
        salt: &[u8],
        algorithm: Option<&str>,
        version: Option<password_hash::Version>,
        params: Params,
    ) -> password_hash::Result<PasswordHash> {
        let algorithm = algorithm
            .map(Algorithm::try_from)
            .transpose()?
            .unwrap_or_default();
        let version = version.map(Version::try_from).transpose()?.unwrap_or_default();
        let mut buffer = [0u8; Output::MAX_LENGTH];
        let output = buffer
            .get_mut(..params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN))
            .ok_or(password_hash::Error::OutputSize)?;
        let argon2 = Argon2::new(algorithm, version, params.clone());
        with_work_area(params.block_count(), |blocks| {
            argon2.hash_password_into_with_memory(password, salt, output, blocks)
        })?;
        Ok(PasswordHash {
            algorithm: algorithm.ident(),
            version: Some(version.into()),
            params: ParamsString::try_from(&params)?,
            salt: Some(Salt::new(salt)?),
            hash: Some(Output::new(output)?),
        })
    }
}

impl PasswordHasher<PasswordHash> for PooledArgon2 {
    fn hash_password_with_salt(&self, password: &[u8], salt: &[u8]) -> password_hash::Result<PasswordHash> {
        self.hash_password_customized(
            password,
            salt,
            Some(Algorithm::Argon2id.ident().as_str()),
            Some(Version::V0x13.into()),
            params(),
        )
    }
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

/// Runs `work` on the blocking pool once one of `permits` is free. The blocking task holds the
/// permit: a caller dropped mid-hash (the client went away) does not stop the hash, so releasing
/// the permit with the caller would let one more hash run than allowed.
async fn with_permit<T: Send + 'static>(
    permits: &'static Semaphore,
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let permit = permits.acquire().await?;
    Ok(tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await?)
}

/// Hashes a password into a PHC string.
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    with_permit(hash_permits(), move || hash_password_blocking(&password)).await?
}

/// The synchronous hash, for start-up and the seed command.
pub fn hash_password_blocking(password: &str) -> anyhow::Result<String> {
    PooledArgon2
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// Checks a password against a PHC string; a malformed hash simply does not match.
pub async fn verify_password(password: String, hash: String) -> anyhow::Result<bool> {
    with_permit(hash_permits(), move || {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        PooledArgon2.verify_password(password.as_bytes(), &parsed).is_ok()
    })
    .await
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

    /// A caller that gives up mid-hash does not free the permit before the work ends.
    #[tokio::test]
    async fn abandoned_work_keeps_its_permit_until_it_ends() {
        static PERMITS: Semaphore = Semaphore::const_new(1);
        let (started, has_started) = std::sync::mpsc::channel();
        let abandoned = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            with_permit(&PERMITS, move || {
                started.send(()).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(300));
            }),
        );
        assert!(abandoned.await.is_err(), "the work ended within 50 ms");
        has_started.recv().unwrap();
        assert!(PERMITS.try_acquire().is_err(), "the permit was freed mid-work");
        drop(PERMITS.acquire().await.unwrap());
    }

    /// Hashes stored by argon2's own hasher (the seed's, older releases') verify, and ours
    /// verify with argon2's own verifier.
    #[test]
    fn pooled_hashes_match_argon2s_own() {
        let own = Argon2::new(Algorithm::Argon2id, Version::V0x13, params());
        let stored = own.hash_password(b"correct horse").unwrap();
        assert!(PooledArgon2.verify_password(b"correct horse", &stored).is_ok());
        assert!(PooledArgon2.verify_password(b"wrong horse", &stored).is_err());
        let ours = PooledArgon2.hash_password(b"correct horse").unwrap();
        assert_eq!(ours.params, stored.params);
        assert!(own.verify_password(b"correct horse", &ours).is_ok());
        assert!(own.verify_password(b"wrong horse", &ours).is_err());
        // A stored hash with other parameters (a smaller work area) verifies too.
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw")
        .unwrap();
        assert!(PooledArgon2.verify_password(b"pw", &small).is_ok());
    }
}
