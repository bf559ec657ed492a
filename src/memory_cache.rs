//! The in-process caches (parsed documents, persisted documents, the response cache without
//! Redis, the rate limiter's fallback) are moka caches bounded by the bytes they hold: each entry
//! weighs what its caller counts plus a fixed charge for the entry itself, so the charge also
//! bounds how many tiny entries fit. Moka evicts by TinyLFU, so a flood of one-off keys does not
//! push out the hot ones.

use std::hash::Hash;

use moka::sync::{Cache, CacheBuilder};

/// What an entry weighs beyond the bytes its caller counts (map slots, a parsed tree's nodes).
pub const ENTRY_BYTES: usize = 256;

/// A moka cache builder holding at most `max_bytes`, each entry weighing `bytes(key, value)` plus
/// [`ENTRY_BYTES`]; the caller adds expiry and builds it.
pub fn by_bytes<K, V>(max_bytes: usize, bytes: fn(&K, &V) -> usize) -> CacheBuilder<K, V, Cache<K, V>>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(max_bytes as u64)
        .weigher(move |key, value| {
            u32::try_from(bytes(key, value).saturating_add(ENTRY_BYTES)).unwrap_or(u32::MAX)
        })
}
