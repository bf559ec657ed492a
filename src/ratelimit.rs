//! Rate limits with GCRA (the generic cell rate algorithm): in Redis through one atomic script
//! when REDIS_URL is set (so every instance shares the counters), in process otherwise, and in
//! process as a fallback while Redis fails.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::ops::compute::Op;
use moka::sync::Cache;

use crate::error::whole_seconds;
use crate::redis_link::RedisLink;
use crate::telemetry;

/// How long a limit check may wait for Redis before the in-process limiter decides.
const REDIS_TIMEOUT: Duration = Duration::from_millis(50);

/// `limit` units per `window`; a full quota may be spent at once.
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    pub limit: u32,
    pub window: Duration,
}

impl Quota {
    fn interval_micros(self) -> u64 {
        (self.window.as_micros() as u64 / u64::from(self.limit.max(1))).max(1)
    }

    fn window_micros(self) -> u64 {
        self.window.as_micros() as u64
    }
}

/// The outcome of one charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Units left in the window after this charge.
    pub remaining: u32,
    /// Wait before retrying (zero when allowed).
    pub retry_after: Duration,
    /// Time until the quota is whole again.
    pub reset: Duration,
}

/// A login or register attempt, limited per client IP and per account against brute force.
pub struct AuthAttempt<'a> {
    /// `None` when rate limits are disabled.
    pub limiter: Option<&'a RateLimiter>,
    pub quota: Quota,
    pub ip: IpAddr,
}

impl AuthAttempt<'_> {
    /// Charges the attempt to the IP and to the account (an email or username, any case).
    pub async fn check(&self, account: &str) -> crate::error::AppResult<()> {
        let Some(limiter) = self.limiter else {
            return Ok(());
        };
        let account = account.trim().to_lowercase();
        for key in [format!("auth-ip:{}", self.ip), format!("auth-account:{account}")] {
            let decision = limiter.charge(&key, self.quota, 1).await;
            if !decision.allowed {
                return Err(crate::error::AppError::RateLimited {
                    retry_after: decision.retry_after,
                });
            }
        }
        Ok(())
    }
}

/// GCRA as one Redis script: the theoretical arrival time (TAT) per key, in microseconds of the
/// Redis server's clock, so instances with drifting clocks agree. Returns
/// {allowed, retry_after_us, used_us}.
const GCRA_SCRIPT: &str = r"
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + cost * interval
if new_tat - window > now then
  return {0, string.format('%.0f', new_tat - window - now), string.format('%.0f', tat - now)}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
return {1, '0', string.format('%.0f', new_tat - now)}
";

/// Shared limiter of one process.
pub struct RateLimiter {
    redis: Option<(RedisLink, redis::Script)>,
    prefix: String,
    /// Without Redis (or while it fails): the TAT of each key, in microseconds since `epoch`.
    /// Deliberately without a capacity: an evicted (or never admitted) key would get a whole
    /// quota again, so a flood of keys could lift the limit of another (a login's account).
    /// A key leaves when its quota is whole, so only keys charged within a window take room,
    /// as with the map this replaced.
    local: Cache<String, u64>,
    epoch: Instant,
    /// Checks decided in process because Redis failed.
    fallbacks: AtomicU64,
}

impl RateLimiter {
    pub fn new(redis: Option<RedisLink>, prefix: &str) -> Self {
        let epoch = Instant::now();
        Self {
            redis: redis.map(|r| (r, redis::Script::new(GCRA_SCRIPT))),
            prefix: prefix.to_owned(),
            local: Cache::builder().expire_after(UntilWhole { epoch }).build(),
            epoch,
            fallbacks: AtomicU64::new(0),
        }
    }

    /// How many checks fell back to the in-process limiter.
    pub fn fallbacks(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }

    /// Charges `cost` units to `key` (for example `rest:203.0.113.9`).
    pub async fn charge(&self, key: &str, quota: Quota, cost: u32) -> Decision {
        let decision = self.decide(key, quota, cost).await;
        if !decision.allowed {
            let scope = key.split(':').next().unwrap_or("other").to_owned();
            metrics::counter!("rate_limit_rejections_total", "scope" => scope).increment(1);
        }
        decision
    }

    async fn decide(&self, key: &str, quota: Quota, cost: u32) -> Decision {
        if let Some((redis, script)) = &self.redis {
            let mut conn = redis.clone();
            let mut invocation = script.key(format!("{}rl:{key}", self.prefix));
            invocation
                .arg(quota.interval_micros())
                .arg(quota.window_micros())
                .arg(cost);
            let call = telemetry::redis(
                "EVALSHA",
                invocation.invoke_async::<(i64, String, String)>(&mut conn),
            );
            match tokio::time::timeout(REDIS_TIMEOUT, call).await {
                Ok(Ok((allowed, retry_after, used))) => {
                    let retry_after = retry_after.parse::<u64>().unwrap_or(0);
                    let used = used.parse::<u64>().unwrap_or(0);
                    return decision(quota, allowed == 1, retry_after, used);
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, "rate limit falls back to this process: Redis failed")
                }
                Err(_) => tracing::warn!("rate limit falls back to this process: Redis timed out"),
            }
            self.fallbacks.fetch_add(1, Ordering::Relaxed);
        }
        self.charge_local(key, quota, cost)
    }

    /// The script's GCRA, in process: the read and the write of a key are one step (moka runs
    /// one computation per key at a time).
    fn charge_local(&self, key: &str, quota: Quota, cost: u32) -> Decision {
        let now = self.epoch.elapsed().as_micros() as u64;
        let mut outcome = None;
        self.local.entry_by_ref(key).and_compute_with(|entry| {
            let tat = entry.map_or(now, |entry| entry.into_value()).max(now);
            let new_tat = tat + u64::from(cost) * quota.interval_micros();
            if new_tat.saturating_sub(quota.window_micros()) > now {
                let retry_after = new_tat - quota.window_micros() - now;
                outcome = Some(decision(quota, false, retry_after, tat - now));
                Op::Nop
            } else {
                outcome = Some(decision(quota, true, 0, new_tat - now));
                Op::Put(new_tat)
            }
        });
        outcome.expect("moka runs the computation once")
    }
}

/// An in-process key expires when its quota is whole again (its TAT has passed): from then on
/// it means the same as no key.
struct UntilWhole {
    epoch: Instant,
}

impl UntilWhole {
    fn until(&self, tat: u64, from: Instant) -> Option<Duration> {
        Some((self.epoch + Duration::from_micros(tat)).saturating_duration_since(from))
    }
}

impl Expiry<String, u64> for UntilWhole {
    fn expire_after_create(&self, _key: &String, tat: &u64, created_at: Instant) -> Option<Duration> {
        self.until(*tat, created_at)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        tat: &u64,
        updated_at: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        self.until(*tat, updated_at)
    }
}

fn decision(quota: Quota, allowed: bool, retry_after_us: u64, used_us: u64) -> Decision {
    let left = quota.window_micros().saturating_sub(used_us) / quota.interval_micros();
    Decision {
        allowed,
        remaining: u32::try_from(left).unwrap_or(u32::MAX).min(quota.limit),
        retry_after: Duration::from_micros(retry_after_us),
        reset: Duration::from_micros(used_us),
    }
}

impl Decision {
    /// `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (and `Retry-After` when refused).
    /// Adds the rate-limit headers of this decision to an answer.
    pub fn set_headers(&self, quota: Quota, headers: &mut axum::http::HeaderMap) {
        for (name, value) in self.headers(quota) {
            if let Ok(value) = axum::http::HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
    }

    fn headers(&self, quota: Quota) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("ratelimit-limit", quota.limit.to_string()),
            ("ratelimit-remaining", self.remaining.to_string()),
            (
                "ratelimit-reset",
                if self.reset.is_zero() {
                    0
                } else {
                    whole_seconds(self.reset)
                }
                .to_string(),
            ),
        ];
        if !self.allowed {
            headers.push(("retry-after", whole_seconds(self.retry_after).to_string()));
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_local_limiter_allows_the_quota_then_refuses() {
        let limiter = RateLimiter::new(None, "t:");
        let quota = Quota {
            limit: 3,
            window: Duration::from_secs(60),
        };
        for expected_remaining in [2, 1, 0] {
            let d = limiter.charge("k", quota, 1).await;
            assert!(d.allowed);
            assert_eq!(d.remaining, expected_remaining);
        }
        let refused = limiter.charge("k", quota, 1).await;
        assert!(!refused.allowed);
        assert!(
            refused.retry_after > Duration::from_secs(19) && refused.retry_after <= Duration::from_secs(20)
        );
        assert!(
            limiter.charge("other", quota, 1).await.allowed,
            "keys are independent"
        );
        let big = limiter.charge("cost", quota, 4).await;
        assert!(!big.allowed, "a cost above the quota never passes");
        assert!(limiter.charge("cost", quota, 3).await.allowed);
    }

    #[test]
    fn concurrent_local_charges_never_pass_more_than_the_quota() {
        let limiter = std::sync::Arc::new(RateLimiter::new(None, "t:"));
        let quota = Quota {
            limit: 50,
            window: Duration::from_secs(600),
        };
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let limiter = limiter.clone();
                std::thread::spawn(move || {
                    (0..100)
                        .filter(|_| limiter.charge_local("shared", quota, 1).allowed)
                        .count()
                })
            })
            .collect();
        let allowed: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(allowed, 50);
    }

    #[test]
    fn a_local_key_stays_while_its_quota_is_spent() {
        let limiter = RateLimiter::new(None, "t:");
        let quota = Quota {
            limit: 10,
            window: Duration::from_secs(1),
        };
        assert!(limiter.charge_local("spent", quota, 10).allowed);
        std::thread::sleep(Duration::from_millis(600));
        limiter.local.run_pending_tasks();
        assert!(limiter.local.get("spent").is_some(), "expired while still needed");
        // 600 ms of a 1 s window give back 6 units (one per 100 ms), not the whole quota.
        assert!(
            !limiter.charge_local("spent", quota, 10).allowed,
            "the quota came back whole too early"
        );
        assert!(limiter.charge_local("spent", quota, 5).allowed);
    }

    #[test]
    fn a_flood_of_keys_does_not_lift_another_keys_limit() {
        let limiter = RateLimiter::new(None, "t:");
        let quota = Quota {
            limit: 3,
            window: Duration::from_secs(600),
        };
        for _ in 0..3 {
            assert!(limiter.charge_local("auth-account:victim", quota, 1).allowed);
        }
        // More keys than any capacity a cache of this size would have, each charged more often
        // than the victim (so a frequency-based admission would prefer them).
        for n in 0..150_000 {
            let key = format!("rest:{n}");
            for _ in 0..4 {
                limiter.charge_local(&key, quota, 1);
            }
        }
        limiter.local.run_pending_tasks();
        assert!(!limiter.charge_local("auth-account:victim", quota, 1).allowed);
    }

    #[test]
    fn a_local_key_leaves_once_its_quota_is_whole() {
        let limiter = RateLimiter::new(None, "t:");
        let quota = Quota {
            limit: 10,
            window: Duration::from_millis(100),
        };
        assert!(limiter.charge_local("brief", quota, 10).allowed);
        assert!(!limiter.charge_local("brief", quota, 1).allowed);
        limiter.local.run_pending_tasks();
        assert_eq!(limiter.local.entry_count(), 1);
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(limiter.local.get("brief"), None, "expired with its TAT");
        // Moka frees expired entries on its timer wheel's next tick (about a second).
        let freed = (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(100));
            limiter.local.run_pending_tasks();
            limiter.local.entry_count() == 0
        });
        assert!(freed, "an expired key still takes room");
        assert!(limiter.charge_local("brief", quota, 10).allowed);
    }
}
