//! The shared response cache for anonymous reads, in Redis (every instance shares it; a single
//! server, a cluster or a Sentinel master) or in process without REDIS_URL. Invalidation is per
//! entity: each answer is kept with the tags of what it read (`Post:<id>`, `Post:list`,
//! `Comment:list:<postId>`, ...; `domain::changes`), and a write invalidates exactly the tags it
//! touched.
//!
//! The protocol, and why no stale answer survives a write:
//! - Positions are Postgres WAL positions (LSNs). A write, after its commit, reads the primary's
//!   insert position W and raises the *stamp* of each tag it touched to W (a stamp only rises;
//!   one key per tag, `<prefix>t:<tag>`, so the tags of one answer may live on different cluster
//!   nodes: no multi-key transaction is needed).
//! - A fill first reads the position P of the server it reads from (the primary's insert
//!   position, or a replica's replay position) and only then reads its data. It stores the
//!   answer with P and its tags, under its own key (`<prefix>c:<hash>`, spread over the nodes).
//! - A lookup reads the entry, then its tags' stamps (and the `All` stamp); the entry is served
//!   only if every stamp is below P.
//! - Safety: a write the fill did not see became visible after the fill's snapshot, which was
//!   taken after P was read; the writer reads W after its commit, so W >= P and the entry fails
//!   the check whenever the stamp is there, whether the stamp was raised before or after the
//!   entry was stored. A write the fill did see may have W >= P as well: that entry is merely
//!   refused once (a miss). On a replica, a commit replayed at or before P is visible, and a
//!   write it had not replayed has W > P: a fill from a lagging replica is refused as soon as
//!   a write it missed is stamped. Stamps outlive every entry that could depend on them: they
//!   expire a minute after the entry lifetime, restarted by each raise.
//! - A raise that cannot reach Redis is kept and retried before the next lookup; until it
//!   lands, this instance serves and stores nothing from the cache.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use moka::sync::Cache;
use redis::AsyncCommands as _;
use sha2::{Digest, Sha256};

use crate::db::lsn::Lsn;
use crate::db::replicas::Reads;
use crate::domain::changes::EntityTag;
use crate::memory_cache;
use crate::redis_link::RedisLink;
use crate::telemetry;

/// How long a cache operation may wait for Redis before the request goes on uncached.
const REDIS_TIMEOUT: Duration = Duration::from_millis(50);
/// Most bytes of answers kept in process (keys and bodies).
const LOCAL_BUDGET_BYTES: usize = 64 * 1024 * 1024;
/// How often raises that could not reach Redis are tried again.
const RETRY_EVERY: Duration = Duration::from_millis(100);

/// A cached answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedResponse {
    pub status: u16,
    pub content_type: String,
    pub body: Bytes,
}

/// An answer as stored: the position its data was read at and the tags it depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    filled_at: Lsn,
    tags: Vec<String>,
    response: CachedResponse,
}

impl Entry {
    fn encode(&self) -> Vec<u8> {
        let mut out = format!(
            "{}\n{}\n{}\n{}\n",
            self.filled_at.to_key_text(),
            self.tags.join(" "),
            self.response.status,
            self.response.content_type
        )
        .into_bytes();
        out.extend_from_slice(&self.response.body);
        out
    }

    fn decode(raw: &[u8]) -> Option<Self> {
        let mut rest = raw;
        let mut line = || {
            let end = rest.iter().position(|b| *b == b'\n')?;
            let text = std::str::from_utf8(&rest[..end]).ok()?;
            rest = &rest[end + 1..];
            Some(text)
        };
        let filled_at = Lsn::from_key_text(line()?)?;
        let tags = line()?
            .split(' ')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        let status = line()?.parse().ok()?;
        let content_type = line()?.to_owned();
        Some(Entry {
            filled_at,
            tags,
            response: CachedResponse {
                status,
                content_type,
                body: Bytes::copy_from_slice(rest),
            },
        })
    }
}

/// What a lookup found.
#[derive(Debug, Default)]
pub struct Lookup {
    /// A fresh answer.
    pub found: Option<CachedResponse>,
    /// Whether a fresh answer may be stored (false while Redis fails).
    pub storable: bool,
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
    redis: Option<RedisLink>,
    prefix: String,
    ttl: Duration,
    /// Without Redis: entries by key, each for `ttl` (shared, so that a hit copies no tag).
    local: Cache<String, Arc<Entry>>,
    /// Without Redis: the stamp of each tag.
    local_stamps: Cache<String, Lsn>,
    /// Without Redis: the highest stamp ever raised. An entry filled after it is fresh without
    /// a look at its tags' stamps (each is at most this one): a hit of the feed checked some 40
    /// stamps, a sixth of its instructions, while nothing was written.
    local_newest_stamp: AtomicU64,
    /// How long a stamp lives: longer than any entry that could have missed its write.
    stamp_ttl: Duration,
    /// Raises that could not reach Redis, retried every [`RETRY_EVERY`] and before each lookup;
    /// while any waits, this instance neither serves nor stores answers.
    pending: Arc<Mutex<BTreeMap<String, Lsn>>>,
    retrying: Arc<AtomicBool>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl ResponseCache {
    /// `stamp_margin`: how much longer than `ttl` a stamp lives. An entry is stored at most
    /// (replica lag bound + request time) after the write it may have missed, so the margin
    /// must cover both (`AppState` computes it from the configuration).
    pub fn new(redis: Option<RedisLink>, prefix: &str, ttl: Duration, stamp_margin: Duration) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            ttl,
            local: memory_cache::by_bytes(LOCAL_BUDGET_BYTES, |key: &String, entry: &Arc<Entry>| {
                key.len()
                    + entry.tags.iter().map(String::len).sum::<usize>()
                    + entry.response.content_type.len()
                    + entry.response.body.len()
            })
            .time_to_live(ttl)
            .build(),
            local_stamps: Cache::builder().time_to_live(ttl + stamp_margin).build(),
            local_newest_stamp: AtomicU64::new(0),
            stamp_ttl: ttl + stamp_margin,
            pending: Arc::new(Mutex::new(BTreeMap::new())),
            retrying: Arc::new(AtomicBool::new(false)),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn entry_key(&self, key: &str) -> String {
        format!("{}c:{key}", self.prefix)
    }

    fn stamp_key(&self, tag: &str) -> String {
        stamp_key(&self.prefix, tag)
    }

    /// (hits, misses) since start.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// The fresh answer for `key`, if any, and whether a new one may be stored.
    pub async fn lookup(&self, key: &str) -> Lookup {
        let lookup = match &self.redis {
            Some(redis) => self.lookup_redis(redis, key).await,
            None => self.lookup_local(key),
        };
        let counter = if lookup.found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        lookup
    }

    async fn lookup_redis(&self, redis: &RedisLink, key: &str) -> Lookup {
        let unreachable = Lookup::default();
        if !flush(redis, &self.pending, &self.prefix, self.stamp_ttl).await {
            return unreachable;
        }
        let mut conn = redis.clone();
        let get = telemetry::redis("GET", conn.get::<_, Option<Vec<u8>>>(self.entry_key(key)));
        let raw = match tokio::time::timeout(REDIS_TIMEOUT, get).await {
            Ok(Ok(raw)) => raw,
            Ok(Err(error)) => {
                tracing::debug!(%error, "cache lookup failed; serving uncached");
                return unreachable;
            }
            Err(_) => return unreachable,
        };
        let Some(entry) = raw.as_deref().and_then(Entry::decode) else {
            return Lookup {
                found: None,
                storable: true,
            };
        };
        let keys: Vec<String> = entry
            .tags
            .iter()
            .map(String::as_str)
            .chain([ALL])
            .map(|tag| self.stamp_key(tag))
            .collect();
        let mget = telemetry::redis("MGET", conn.mget::<_, Vec<Option<String>>>(keys));
        let stamps = match tokio::time::timeout(REDIS_TIMEOUT, mget).await {
            Ok(Ok(stamps)) => stamps,
            _ => return unreachable,
        };
        let fresh = stamps.iter().all(|stamp| {
            stamp
                .as_deref()
                .is_none_or(|stamp| Lsn::from_key_text(stamp).is_some_and(|w| w < entry.filled_at))
        });
        Lookup {
            found: fresh.then_some(entry.response),
            storable: true,
        }
    }

    fn lookup_local(&self, key: &str) -> Lookup {
        let found = self.local.get(key).filter(|entry| {
            // Raised before the stamps themselves (`invalidate`), so never behind them.
            entry.filled_at.0 > self.local_newest_stamp.load(Ordering::Acquire)
                || entry.tags.iter().map(String::as_str).chain([ALL]).all(|tag| {
                    self.local_stamps
                        .get(tag)
                        .is_none_or(|stamp| stamp < entry.filled_at)
                })
        });
        Lookup {
            found: found.map(|entry| entry.response.clone()),
            storable: true,
        }
    }

    /// Stores a fresh answer whose data was read at `filled_at` (see the module's protocol)
    /// and depends on `tags`.
    pub async fn store(&self, key: &str, filled_at: Lsn, tags: &[EntityTag], response: &CachedResponse) {
        let entry = Entry {
            filled_at,
            tags: tags.iter().map(ToString::to_string).collect(),
            response: response.clone(),
        };
        match &self.redis {
            // An invalidation of this instance has not reached Redis yet: store nothing.
            Some(_) if !self.pending.lock().expect("pending lock").is_empty() => {}
            Some(redis) => {
                let mut conn = redis.clone();
                let mut command = redis::cmd("SET");
                command
                    .arg(self.entry_key(key))
                    .arg(entry.encode())
                    .arg("PX")
                    .arg(self.ttl.as_millis() as u64);
                let call = telemetry::redis("SET", command.query_async::<()>(&mut conn));
                if let Ok(Err(error)) = tokio::time::timeout(REDIS_TIMEOUT, call).await {
                    tracing::debug!(%error, "cache store failed");
                }
            }
            None => self.local.insert(key.to_owned(), Arc::new(entry)),
        }
    }

    /// Invalidates every answer that depends on one of `tags`; called after a write that
    /// committed before position `written`, before the write is answered.
    pub async fn invalidate(&self, written: Lsn, tags: &[EntityTag]) {
        let tags: Vec<String> = tags.iter().map(ToString::to_string).collect();
        match &self.redis {
            Some(redis) => {
                {
                    let mut pending = self.pending.lock().expect("pending lock");
                    for tag in tags {
                        let stamp = pending.entry(tag).or_default();
                        *stamp = (*stamp).max(written);
                    }
                }
                if !flush(redis, &self.pending, &self.prefix, self.stamp_ttl).await {
                    self.retry_in_background(redis);
                }
            }
            None => {
                self.local_newest_stamp.fetch_max(written.0, Ordering::AcqRel);
                for tag in tags {
                    let stamp = self.local_stamps.get(&tag).unwrap_or_default();
                    self.local_stamps.insert(tag, stamp.max(written));
                }
            }
        }
    }

    /// Keeps trying the waiting raises until they land (one task per instance at a time), so
    /// that other instances stop serving what they invalidate even if this one gets no request.
    fn retry_in_background(&self, redis: &RedisLink) {
        if self.retrying.swap(true, Ordering::AcqRel) {
            return;
        }
        let (redis, pending, retrying) = (redis.clone(), self.pending.clone(), self.retrying.clone());
        let (prefix, ttl) = (self.prefix.clone(), self.stamp_ttl);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(RETRY_EVERY).await;
                if flush(&redis, &pending, &prefix, ttl).await {
                    break;
                }
            }
            retrying.store(false, Ordering::Release);
        });
    }
}

/// Where the stamp of `tag` lives: one key per tag.
fn stamp_key(prefix: &str, tag: &str) -> String {
    format!("{prefix}t:{tag}")
}

/// Raises in Redis every stamp waiting to be raised; false while Redis cannot take them.
async fn flush(
    redis: &RedisLink,
    pending: &Mutex<BTreeMap<String, Lsn>>,
    prefix: &str,
    ttl: Duration,
) -> bool {
    let waiting: Vec<(String, Lsn)> = {
        let pending = pending.lock().expect("pending lock");
        if pending.is_empty() {
            return true;
        }
        pending.iter().map(|(tag, lsn)| (tag.clone(), *lsn)).collect()
    };
    let raises = waiting.iter().map(|(tag, lsn)| async move {
        let raise = redis.raise(stamp_key(prefix, tag), *lsn, ttl);
        matches!(tokio::time::timeout(REDIS_TIMEOUT * 4, raise).await, Ok(Ok(())))
    });
    let done = futures_util::future::join_all(raises).await;
    let mut pending = pending.lock().expect("pending lock");
    let mut all = true;
    for ((tag, lsn), raised) in waiting.into_iter().zip(done) {
        if raised {
            // A later write may have raised it further meanwhile: keep that one.
            if pending.get(&tag) == Some(&lsn) {
                pending.remove(&tag);
            }
        } else {
            all = false;
        }
    }
    all
}

/// A miss whose answer will be stored: where it reads, and that server's position, read before
/// the answer's data.
pub struct Fill {
    pub reads: Reads,
    at: Lsn,
}

impl Fill {
    /// Reads the position of the server `reads` uses; `None` when it cannot (nothing is stored).
    pub async fn begin(reads: Reads) -> Option<Self> {
        let reads = reads.recording();
        let at = reads.position().await.ok()?;
        Some(Self { reads, at })
    }
}

impl ResponseCache {
    /// Stores the answer of `fill` with what it read.
    pub async fn finish(&self, fill: Fill, key: &str, response: &CachedResponse) {
        if let Some(tags) = fill.reads.dependencies() {
            self.store(key, fill.at, &tags, response).await;
        }
    }
}

/// The tag every answer depends on.
const ALL: &str = "All";

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn answer(body: &str) -> CachedResponse {
        CachedResponse {
            status: 200,
            content_type: "application/json".into(),
            body: Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn entries_round_trip() {
        let entry = Entry {
            filled_at: Lsn(0x1_0000_00A0),
            tags: vec!["Post:list".into(), format!("Post:{}", Uuid::nil())],
            response: answer("{\"a\":\n1}"),
        };
        assert_eq!(Entry::decode(&entry.encode()), Some(entry));
    }

    #[tokio::test]
    async fn a_write_invalidates_exactly_the_answers_of_its_tags() {
        let cache = ResponseCache::new(None, "t:", Duration::from_secs(60), Duration::from_secs(60));
        let (p, q) = (Uuid::now_v7(), Uuid::now_v7());
        let of_p = cache_key(&[b"post p"]);
        let of_q = cache_key(&[b"post q"]);
        let list = cache_key(&[b"list"]);
        cache
            .store(&of_p, Lsn(100), &[EntityTag::Post(p)], &answer("p"))
            .await;
        cache
            .store(&of_q, Lsn(100), &[EntityTag::Post(q)], &answer("q"))
            .await;
        cache
            .store(
                &list,
                Lsn(100),
                &[EntityTag::PostList, EntityTag::Post(p)],
                &answer("list"),
            )
            .await;
        // A like on p at 150: p's answer and the list that contains p go; q's stays.
        cache
            .invalidate(Lsn(150), &[EntityTag::Post(p), EntityTag::PostPopular])
            .await;
        assert_eq!(cache.lookup(&of_p).await.found, None);
        assert_eq!(cache.lookup(&list).await.found, None);
        assert_eq!(cache.lookup(&of_q).await.found, Some(answer("q")));
        // A fill that read before the write (P <= W) is refused even when stored after it.
        cache
            .store(&of_p, Lsn(150), &[EntityTag::Post(p)], &answer("stale p"))
            .await;
        assert_eq!(cache.lookup(&of_p).await.found, None);
        // One that read after it is served.
        cache
            .store(&of_p, Lsn(151), &[EntityTag::Post(p)], &answer("new p"))
            .await;
        assert_eq!(cache.lookup(&of_p).await.found, Some(answer("new p")));
        // A stamp never goes down; `All` reaches every answer.
        cache.invalidate(Lsn(120), &[EntityTag::Post(p)]).await;
        assert_eq!(cache.lookup(&of_p).await.found, Some(answer("new p")));
        cache.invalidate(Lsn(200), &[EntityTag::All]).await;
        assert_eq!(cache.lookup(&of_q).await.found, None);
        assert_eq!(cache.stats().0, 3);
    }
}
