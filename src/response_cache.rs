//! The shared response cache for anonymous reads, in Redis (every instance shares it) or in
//! process without REDIS_URL. Never stale after a write: every write bumps a generation number
//! that is part of every key, so entries cached before the write are never read again. A read
//! stores its answer under the generation it saw before querying, so a write racing with it
//! cannot leave a stale entry under the new generation. With read replicas, each bump also
//! raises the cache's floor to the write's WAL position, and a miss that will be stored reads
//! from a server that has replayed past the floor it saw (`db::replicas`): a fill from a
//! lagging replica cannot store an answer older than the write that emptied the cache.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use moka::sync::Cache;
use sha2::{Digest, Sha256};

use crate::db::replicas::Lsn;
use crate::memory_cache;
use crate::telemetry;

/// How long a cache operation may wait for Redis before the request goes on uncached.
const REDIS_TIMEOUT: Duration = Duration::from_millis(50);
/// Most bytes of answers kept in process (keys and bodies).
const LOCAL_BUDGET_BYTES: usize = 64 * 1024 * 1024;

/// One GET of the generation, the floor and the entry under the generation, in a single
/// round trip.
const LOOKUP_SCRIPT: &str = r"
local generation = redis.call('GET', KEYS[1]) or '0'
local floor = redis.call('GET', KEYS[2]) or ''
return {generation, floor, redis.call('GET', ARGV[1] .. generation .. ':' .. ARGV[2])}
";

/// Raises the floor to the write's position (fixed-width hex: text order is numeric order),
/// then bumps the generation: a reader that sees the new generation sees the new floor.
const BUMP_SCRIPT: &str = r"
local floor = redis.call('GET', KEYS[2])
if floor == false or ARGV[1] > floor then
  redis.call('SET', KEYS[2], ARGV[1])
end
return redis.call('INCR', KEYS[1])
";

/// Writes that change nothing an anonymous reader can see, so they keep the cache: each by its
/// GraphQL mutation and its legacy REST routes (viewing a post counts a view, which the cache
/// never serves; a password change has no legacy route).
const KEEPING_WRITES: &[(&str, &[&str])] = &[
    ("login", &["/api/auth/login"]),
    ("refreshToken", &["/api/auth/refresh", "/api/auth/refresh-token"]),
    ("logout", &["/api/auth/logout"]),
    ("changePassword", &[]),
    ("viewPost", &[]),
];

/// Whether the GraphQL mutation field `name` keeps the cache.
pub fn mutation_keeps_cache(name: &str) -> bool {
    KEEPING_WRITES.iter().any(|(mutation, _)| *mutation == name)
}

/// Whether a write to the REST route `path` keeps the cache.
pub fn route_keeps_cache(path: &str) -> bool {
    KEEPING_WRITES.iter().any(|(_, routes)| routes.contains(&path))
}

/// A cached answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedResponse {
    pub status: u16,
    pub content_type: String,
    pub body: Bytes,
}

impl CachedResponse {
    fn encode(&self) -> Vec<u8> {
        let mut out = format!("{}\n{}\n", self.status, self.content_type).into_bytes();
        out.extend_from_slice(&self.body);
        out
    }

    fn decode(raw: &[u8]) -> Option<Self> {
        let first = raw.iter().position(|b| *b == b'\n')?;
        let rest = &raw[first + 1..];
        let second = rest.iter().position(|b| *b == b'\n')?;
        Some(CachedResponse {
            status: std::str::from_utf8(&raw[..first]).ok()?.parse().ok()?,
            content_type: String::from_utf8(rest[..second].to_vec()).ok()?,
            body: Bytes::copy_from_slice(&rest[second + 1..]),
        })
    }
}

/// The generation a lookup saw; a miss is stored under it, and read from a server that has
/// replayed past its `floor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation {
    number: u64,
    pub floor: Lsn,
}

/// A cache key: a hash of everything that selects the answer.
pub fn cache_key(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    crate::digest::hex(&hasher.finalize()[..16])
}

pub struct ResponseCache {
    redis: Option<(redis::aio::ConnectionManager, redis::Script, redis::Script)>,
    prefix: String,
    ttl: Duration,
    /// Without Redis: answers by `generation:key`, each for `ttl`.
    local: Cache<String, CachedResponse>,
    local_generation: AtomicU64,
    local_floor: AtomicU64,
    /// A bump that could not reach Redis; retried before the next lookup.
    pending_bump: AtomicBool,
    /// The highest floor of the bumps that could not reach Redis.
    pending_floor: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl ResponseCache {
    pub fn new(redis: Option<redis::aio::ConnectionManager>, prefix: &str, ttl: Duration) -> Self {
        Self {
            redis: redis.map(|r| {
                (
                    r,
                    redis::Script::new(LOOKUP_SCRIPT),
                    redis::Script::new(BUMP_SCRIPT),
                )
            }),
            prefix: prefix.to_owned(),
            ttl,
            local: memory_cache::by_bytes(LOCAL_BUDGET_BYTES, |key: &String, response: &CachedResponse| {
                key.len() + response.content_type.len() + response.body.len()
            })
            .time_to_live(ttl)
            .build(),
            local_generation: AtomicU64::new(0),
            local_floor: AtomicU64::new(0),
            pending_bump: AtomicBool::new(false),
            pending_floor: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn generation_key(&self) -> String {
        format!("{}cache:generation", self.prefix)
    }

    fn floor_key(&self) -> String {
        format!("{}cache:floor", self.prefix)
    }

    fn entry_prefix(&self) -> String {
        format!("{}cache:", self.prefix)
    }

    /// (hits, misses) since start.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// The cached answer for `key`, and the generation to store a fresh one under. `None` for the
    /// generation means Redis is unreachable: do not store.
    pub async fn lookup(&self, key: &str) -> (Option<CachedResponse>, Option<Generation>) {
        let (found, generation) = match &self.redis {
            Some((redis, script, bump)) => self.lookup_redis(redis, script, bump, key).await,
            None => self.lookup_local(key),
        };
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        (found, generation)
    }

    async fn lookup_redis(
        &self,
        redis: &redis::aio::ConnectionManager,
        script: &redis::Script,
        bump: &redis::Script,
        key: &str,
    ) -> (Option<CachedResponse>, Option<Generation>) {
        if self.pending_bump.load(Ordering::Acquire)
            && !self
                .bump_redis(redis, bump, Lsn(self.pending_floor.load(Ordering::Acquire)))
                .await
        {
            return (None, None);
        }
        let mut conn = redis.clone();
        let mut invocation = script.key(self.generation_key());
        invocation.key(self.floor_key()).arg(self.entry_prefix()).arg(key);
        let call = telemetry::redis(
            "EVALSHA",
            invocation.invoke_async::<(String, String, Option<Vec<u8>>)>(&mut conn),
        );
        match tokio::time::timeout(REDIS_TIMEOUT, call).await {
            Ok(Ok((generation, floor, value))) => {
                let floor = if floor.is_empty() {
                    Some(Lsn::default())
                } else {
                    Lsn::from_key_text(&floor)
                };
                let generation = generation
                    .parse()
                    .ok()
                    .zip(floor)
                    .map(|(number, floor)| Generation { number, floor });
                (value.and_then(|raw| CachedResponse::decode(&raw)), generation)
            }
            Ok(Err(error)) => {
                tracing::debug!(%error, "cache lookup failed; serving uncached");
                (None, None)
            }
            Err(_) => (None, None),
        }
    }

    fn lookup_local(&self, key: &str) -> (Option<CachedResponse>, Option<Generation>) {
        // The floor is raised before the generation: whoever sees the new generation sees it.
        let generation = self.local_generation.load(Ordering::Acquire);
        let floor = Lsn(self.local_floor.load(Ordering::Acquire));
        let found = self.local.get(&format!("{generation}:{key}"));
        (
            found,
            Some(Generation {
                number: generation,
                floor,
            }),
        )
    }

    /// Stores a fresh answer under the generation its lookup saw.
    pub async fn store(&self, generation: Generation, key: &str, response: &CachedResponse) {
        match &self.redis {
            Some((redis, _, _)) => {
                let mut conn = redis.clone();
                let mut command = redis::cmd("SET");
                command
                    .arg(format!("{}{}:{key}", self.entry_prefix(), generation.number))
                    .arg(response.encode())
                    .arg("PX")
                    .arg(self.ttl.as_millis() as u64);
                let call = telemetry::redis("SET", command.query_async::<()>(&mut conn));
                if let Ok(Err(error)) = tokio::time::timeout(REDIS_TIMEOUT, call).await {
                    tracing::debug!(%error, "cache store failed");
                }
            }
            None => self
                .local
                .insert(format!("{}:{key}", generation.number), response.clone()),
        }
    }

    /// Makes every cached answer unreachable; called after every write, before it is answered.
    /// `written` is the write's WAL position (zero without read replicas): later fills read from
    /// a server that has replayed it.
    pub async fn invalidate(&self, written: Lsn) {
        match &self.redis {
            Some((redis, _, bump)) => {
                if !self.bump_redis(redis, bump, written).await {
                    // Readers skip the cache until the bump reaches Redis.
                    self.pending_floor.fetch_max(written.0, Ordering::AcqRel);
                    self.pending_bump.store(true, Ordering::Release);
                }
            }
            None => {
                self.local_floor.fetch_max(written.0, Ordering::AcqRel);
                self.local_generation.fetch_add(1, Ordering::AcqRel);
                // Entries of earlier generations are never read again: free their room now
                // (moka drops them lazily; until it has, its admission would weigh the new
                // generation's answers against the dead ones and turn them away).
                self.local.invalidate_all();
                self.local.run_pending_tasks();
            }
        }
    }

    async fn bump_redis(
        &self,
        redis: &redis::aio::ConnectionManager,
        bump: &redis::Script,
        written: Lsn,
    ) -> bool {
        let mut conn = redis.clone();
        let mut invocation = bump.key(self.generation_key());
        invocation.key(self.floor_key()).arg(written.to_key_text());
        let call = telemetry::redis("EVALSHA", invocation.invoke_async::<i64>(&mut conn));
        match tokio::time::timeout(REDIS_TIMEOUT * 4, call).await {
            Ok(Ok(_)) => {
                self.pending_bump.store(false, Ordering::Release);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &str) -> CachedResponse {
        CachedResponse {
            status: 200,
            content_type: "application/json".into(),
            body: Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn entries_round_trip() {
        let response = answer("{\"a\":\n1}");
        assert_eq!(CachedResponse::decode(&response.encode()), Some(response));
    }

    #[tokio::test]
    async fn a_write_makes_earlier_entries_unreachable() {
        let cache = ResponseCache::new(None, "t:", Duration::from_secs(60));
        let key = cache_key(&[b"GET", b"/api/posts"]);
        let (found, generation) = cache.lookup(&key).await;
        assert!(found.is_none());
        cache.store(generation.unwrap(), &key, &answer("old")).await;
        assert_eq!(cache.lookup(&key).await.0, Some(answer("old")));
        // A read that looked up before a write must not poison the new generation.
        let (_, stale_generation) = cache.lookup(&cache_key(&[b"other"])).await;
        cache.invalidate(Lsn::default()).await;
        cache
            .store(
                stale_generation.unwrap(),
                &cache_key(&[b"other"]),
                &answer("stale"),
            )
            .await;
        assert!(cache.lookup(&key).await.0.is_none());
        assert!(cache.lookup(&cache_key(&[b"other"])).await.0.is_none());
        assert_eq!(cache.stats().0, 1);
        // A write's position becomes the floor of later fills, and never goes down.
        cache.invalidate(Lsn(42)).await;
        cache.invalidate(Lsn(7)).await;
        assert_eq!(cache.lookup(&key).await.1.unwrap().floor, Lsn(42));
    }
}
