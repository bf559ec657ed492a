//! Read replicas (DATABASE_READ_URLS): which server a request reads from, the replicas' health,
//! and read-your-writes.
//!
//! - **Routing.** A query reads from one replica, picked once per request among those that are up
//!   and no further behind than DATABASE_READ_MAX_LAG; mutations, transactions and everything a
//!   write path reads use the primary. A statement that fails on a replica (stopped, restarted,
//!   cancelled by a recovery conflict) runs again on the primary, and the replica is skipped
//!   until its next health check passes, so losing a replica fails no request.
//! - **Health.** Every [`POLL_INTERVAL`] each instance reads the primary's WAL insert position
//!   and each replica's replay position. A replica's lag is how long ago the primary first
//!   passed the position the replica has replayed (from the primary's recent positions, so no
//!   clock is compared across servers); a replica that does not answer is down.
//! - **Read-your-writes.** After a write, the writer's mark (the primary's WAL insert position
//!   after the commit) is kept for DATABASE_READ_MAX_LAG, in Redis when configured (every
//!   instance sees it) or in process. While it is kept, that user's reads go to a replica only if
//!   its last checked replay position has passed the mark, else to the primary. After that bound
//!   every replica still in use has replayed the write: it is behind by less than the bound.
//!   A user whose token is younger than the bound (just registered or signed in) reads from the
//!   primary too: their account may be too new for a replica.
//! - **The response cache.** A write records its mark with the cache invalidation; a cache fill
//!   reads from a server that has replayed past the last invalidation's mark, so a fill cannot
//!   store an answer older than a write it raced.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use moka::sync::Cache;
use uuid::Uuid;

use super::lsn::Lsn;
use super::pool::{DbPool, redact_url};
use crate::domain::changes::{EntityTag, TagSet};
use crate::error::{AppError, AppResult};
use crate::redis_link::RedisLink;
use crate::telemetry;

/// How often each instance checks the replicas (and so how soon a writer's reads return to a
/// replica once it has replayed the write).
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// How long a health check may take before its server counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a read-your-writes lookup may wait for Redis before the read goes to the primary.
const REDIS_TIMEOUT: Duration = Duration::from_millis(50);

/// What the last health check of a replica found.
#[derive(Debug, Clone)]
pub struct ReplicaStatus {
    /// The replica's URL without its password.
    pub name: String,
    /// It answered the last check (and no read has failed on it since).
    pub up: bool,
    /// The position it has replayed up to.
    pub replayed: Lsn,
    /// How far behind the primary it is; `None` while it is down or not yet checked.
    pub lag: Option<Duration>,
    /// Why it is down, when it is.
    pub error: Option<String>,
}

struct Member {
    pool: DbPool,
    status: RwLock<ReplicaStatus>,
}

/// The primary's WAL insert positions of the last checks, oldest first.
type History = VecDeque<(Instant, Lsn)>;

/// The replicas of one instance, their health, and the writers' marks.
pub struct Replicas {
    members: Vec<Member>,
    primary: DbPool,
    max_lag: Duration,
    next: AtomicUsize,
    marks: WriteMarks,
    history: Mutex<History>,
}

impl Replicas {
    /// The replicas over their pools; [`Replicas::spawn_checks`] starts their health checks.
    pub fn new(
        primary: DbPool,
        replicas: Vec<(String, DbPool)>,
        max_lag: Duration,
        redis: Option<RedisLink>,
        prefix: &str,
    ) -> Arc<Self> {
        let members = replicas
            .into_iter()
            .map(|(url, pool)| Member {
                pool,
                status: RwLock::new(ReplicaStatus {
                    name: redact_url(&url),
                    up: false,
                    replayed: Lsn::default(),
                    lag: None,
                    error: Some("not checked yet".to_owned()),
                }),
            })
            .collect();
        Arc::new(Self {
            members,
            primary,
            max_lag,
            next: AtomicUsize::new(0),
            // A replica's lag is as old as its last check: a mark outlives the bound by a check.
            marks: WriteMarks::new(redis, prefix, max_lag + POLL_INTERVAL + CHECK_TIMEOUT),
            history: Mutex::new(VecDeque::new()),
        })
    }

    /// Checks every replica now and then every [`POLL_INTERVAL`], until the state is dropped.
    pub fn spawn_checks(self: &Arc<Self>) {
        let weak: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(POLL_INTERVAL);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(replicas) = weak.upgrade() else {
                    return;
                };
                replicas.check().await;
            }
        });
    }

    /// Each replica's last status, in DATABASE_READ_URLS order.
    pub fn statuses(&self) -> Vec<ReplicaStatus> {
        self.members
            .iter()
            .map(|m| m.status.read().expect("status lock").clone())
            .collect()
    }

    /// The longest a replica may lag and still be read from.
    pub fn max_lag(&self) -> Duration {
        self.max_lag
    }

    /// One health check of every replica against the primary's current position.
    pub async fn check(&self) {
        let primary = tokio::time::timeout(CHECK_TIMEOUT, insert_position(&self.primary)).await;
        let now = Instant::now();
        if let Ok(Ok(lsn)) = primary {
            let mut history = self.history.lock().expect("history lock");
            history.push_back((now, lsn));
            let keep = self.max_lag * 2 + Duration::from_secs(1);
            while history
                .front()
                .is_some_and(|(at, _)| now.duration_since(*at) > keep)
            {
                history.pop_front();
            }
        }
        let checks = self.members.iter().map(|member| async move {
            let found = tokio::time::timeout(CHECK_TIMEOUT, replay_position(&member.pool)).await;
            let mut status = member.status.write().expect("status lock");
            match found {
                Ok(Ok((replayed, age))) => {
                    let history = self.history.lock().expect("history lock");
                    status.up = true;
                    status.replayed = replayed;
                    status.lag = Some(lag(&history, replayed, age, Instant::now()));
                    status.error = None;
                }
                Ok(Err(error)) => mark_down(&mut status, error),
                Err(_) => mark_down(&mut status, "no answer within 1 s".to_owned()),
            }
        });
        futures_util::future::join_all(checks).await;
    }

    /// A replica that may serve a read that must see everything up to `floor`, round robin.
    fn pick(&self, floor: Lsn) -> Option<usize> {
        let count = self.members.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..count).map(|i| (start + i) % count).find(|&i| {
            let status = self.members[i].status.read().expect("status lock");
            status.up && status.replayed >= floor && status.lag.is_some_and(|lag| lag <= self.max_lag)
        })
    }

    fn failed(&self, index: usize, error: &AppError) {
        let mut status = self.members[index].status.write().expect("status lock");
        if status.up {
            tracing::warn!(replica = %status.name, ?error, "read failed on a replica; reading from the primary until it passes a check");
        }
        mark_down(&mut status, format!("a read failed: {error:?}"));
    }

    /// Records that `user` has just written, committed before position `written`.
    pub async fn wrote(&self, user: Uuid, written: Lsn) {
        self.marks.record(user, written).await;
    }
}

fn mark_down(status: &mut ReplicaStatus, error: String) {
    status.up = false;
    status.lag = None;
    status.error = Some(error);
}

/// How far behind a replica that has replayed up to `replayed` is: how long ago the primary was
/// first seen past that position. `replay_age` (the replica's own age of its last replayed
/// transaction) covers a replica behind every remembered position.
fn lag(history: &History, replayed: Lsn, replay_age: Option<Duration>, now: Instant) -> Duration {
    let Some(ahead) = history.iter().position(|(_, lsn)| *lsn > replayed) else {
        return Duration::ZERO;
    };
    if ahead == 0 {
        let remembered = history
            .front()
            .map_or(Duration::ZERO, |(at, _)| now.duration_since(*at));
        return remembered.max(replay_age.unwrap_or(Duration::MAX));
    }
    // The write it lacks happened after the check before `ahead`: count from that check.
    now.duration_since(history[ahead - 1].0)
}

#[derive(QueryableByName)]
struct Position {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    lsn: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)]
    age: Option<f64>,
}

/// The position of a write that has committed, taken after its commit: at or past the end of
/// its commit record, and strictly below the position of anything read after this returns.
/// `Lsn(u64::MAX)` when it cannot be read in three tries (then the writer reads from the
/// primary, and the tags it changed stay uncached: until no write touches them for a whole
/// stamp lifetime, since each raise restarts the lifetime. Safe, but slow to recover).
///
/// It writes a one-record WAL message (`pg_logical_emit_message`, not transactional, any WAL
/// level, any role) and takes the byte before the message's end: the message began after the
/// commit, so that byte is at or past the commit; and the insert position anyone reads later
/// is past the message's end. Without the message, a cache fill that read its position before
/// the write could read the very same position as the write (no WAL in between), and the two
/// could not be told apart (`response_cache`).
pub async fn after_commit(pool: &DbPool) -> Lsn {
    for attempt in 0..3 {
        if let Ok(Ok(end)) = tokio::time::timeout(CHECK_TIMEOUT, mark_position(pool)).await {
            return Lsn(end.0.saturating_sub(1));
        }
        tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
    }
    Lsn(u64::MAX)
}

async fn mark_position(pool: &DbPool) -> AppResult<Lsn> {
    position(
        &mut *pool.get().await?,
        "SELECT pg_logical_emit_message(false, 'blog-gateway', 'write')::text AS lsn",
    )
    .await
}

/// The primary's WAL insert position: at or past the end of every transaction committed before
/// it was read (also with `synchronous_commit = off`, where the flushed position may not be).
async fn insert_position(pool: &DbPool) -> AppResult<Lsn> {
    position(
        &mut *pool.get().await?,
        "SELECT pg_current_wal_insert_lsn()::text AS lsn",
    )
    .await
}

/// The one position `sql` selects (as text, named `lsn`).
async fn position(conn: &mut AsyncPgConnection, sql: &'static str) -> AppResult<Lsn> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        lsn: Option<String>,
    }
    let row: Row = diesel::sql_query(sql).get_result(conn).await?;
    row.lsn
        .as_deref()
        .and_then(Lsn::parse)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("the server reported no WAL position")))
}

/// A replica's replay position and the age of its last replayed transaction.
async fn replay_position(pool: &DbPool) -> Result<(Lsn, Option<Duration>), String> {
    let mut conn = pool.get().await.map_err(|e| format!("cannot connect: {e}"))?;
    let row: Position = diesel::sql_query(
        "SELECT pg_last_wal_replay_lsn()::text AS lsn, \
         extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS age",
    )
    .get_result(&mut *conn)
    .await
    .map_err(|e| e.to_string())?;
    let lsn = row
        .lsn
        .as_deref()
        .and_then(Lsn::parse)
        .ok_or("not a streaming replica: it reports no replay position (is it a primary?)")?;
    let age = row.age.map(|s| Duration::from_secs_f64(s.max(0.0)));
    Ok((lsn, age))
}

/// The writers' marks: for DATABASE_READ_MAX_LAG after a write, the primary position a server
/// must have replayed to serve that user's reads.
struct WriteMarks {
    redis: Option<RedisLink>,
    prefix: String,
    ttl: Duration,
    local: Cache<Uuid, Lsn>,
}

impl WriteMarks {
    fn new(redis: Option<RedisLink>, prefix: &str, ttl: Duration) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            ttl,
            local: Cache::builder().time_to_live(ttl).max_capacity(1_000_000).build(),
        }
    }

    fn key(&self, user: Uuid) -> String {
        format!("{}ryw:{user}", self.prefix)
    }

    async fn record(&self, user: Uuid, lsn: Lsn) {
        let previous = self.local.get(&user).unwrap_or_default();
        self.local.insert(user, previous.max(lsn));
        let Some(redis) = &self.redis else {
            return;
        };
        let raise = redis.raise(self.key(user), lsn, self.ttl);
        if !matches!(tokio::time::timeout(REDIS_TIMEOUT * 4, raise).await, Ok(Ok(()))) {
            tracing::warn!(%user, "could not record a write mark in Redis; other instances may serve this user a replica's older answer until it catches up");
        }
    }

    /// The user's mark; `None` when it cannot be known (Redis unreachable): read from the primary.
    async fn floor(&self, user: Uuid) -> Option<Lsn> {
        let local = self.local.get(&user).unwrap_or_default();
        let Some(redis) = &self.redis else {
            return Some(local);
        };
        let mut conn = redis.clone();
        let mut command = redis::cmd("GET");
        command.arg(self.key(user));
        let call = telemetry::redis("GET", command.query_async::<Option<String>>(&mut conn));
        match tokio::time::timeout(REDIS_TIMEOUT, call).await {
            Ok(Ok(found)) => {
                Some(local.max(found.as_deref().and_then(Lsn::from_key_text).unwrap_or_default()))
            }
            _ => None,
        }
    }
}

/// The future of one read on a connection.
pub type ReadFuture<'r, T> = Pin<Box<dyn Future<Output = AppResult<T>> + Send + 'r>>;

/// Lets a read's future (which lives for the connection's borrow `'r`) borrow what the caller
/// lends for `'a`: the type says `'a` outlives `'r` (a read may run twice, so it is a closure
/// called with each connection rather than a future).
pub type Scope<'r, 'a> = PhantomData<&'r &'a ()>;

/// Where one request reads: a replica chosen at its first read (then kept, so that the request
/// sees one server's state), or the primary. Cheap to clone: the loaders of a request share it.
#[derive(Clone)]
pub struct Reads(Arc<ReadsInner>);

struct ReadsInner {
    primary: DbPool,
    /// `None`: every read goes to the primary.
    replicas: Option<(Arc<Replicas>, Lsn)>,
    chosen: Mutex<Choice>,
    /// What the answer read (see [`Reads::depends_on`]), when it will be stored in the
    /// response cache; `None` otherwise (no tag is collected for nothing).
    depends: Option<TagSet>,
}

#[derive(Clone, Copy)]
enum Choice {
    Undecided,
    Replica(usize),
    Primary,
}

impl Reads {
    /// Reads from the primary only (writes, and everything without replicas).
    pub fn primary(pool: &DbPool) -> Self {
        Self::build(pool, None)
    }

    /// Reads for a caller: from a replica that has replayed past `floor` and past the caller's
    /// own last write, else from the primary. `token_issued_at` (unix seconds) is the caller's
    /// access token's `iat`.
    pub async fn for_caller(
        pool: &DbPool,
        replicas: Option<&Arc<Replicas>>,
        caller: Option<(Uuid, i64)>,
    ) -> Self {
        let Some(replicas) = replicas else {
            return Self::primary(pool);
        };
        let mut floor = Lsn::default();
        if let Some((user, issued_at)) = caller {
            let age = chrono::Utc::now().timestamp().saturating_sub(issued_at);
            // `iat` is in whole seconds: a second of slack keeps a sub-second bound safe.
            let bound = replicas.max_lag + Duration::from_secs(1);
            if u64::try_from(age).map_or(true, |age| Duration::from_secs(age) <= bound) {
                return Self::primary(pool);
            }
            match replicas.marks.floor(user).await {
                Some(mark) => floor = floor.max(mark),
                None => return Self::primary(pool),
            }
        }
        Self::build(pool, Some((replicas.clone(), floor)))
    }

    fn build(pool: &DbPool, replicas: Option<(Arc<Replicas>, Lsn)>) -> Self {
        Self(Arc::new(ReadsInner {
            primary: pool.clone(),
            replicas,
            chosen: Mutex::new(Choice::Undecided),
            depends: None,
        }))
    }

    /// The same reads, recording what the answer depends on (a cache fill). Only before the
    /// reads are shared with the request's parts.
    pub fn recording(mut self) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.0) {
            inner.depends = Some(TagSet::default());
        }
        self
    }

    /// Records that the answer being built depends on `tags`, when it is recorded (for the
    /// response cache).
    pub fn depends_on(&self, tags: impl IntoIterator<Item = EntityTag>) {
        if let Some(depends) = &self.0.depends {
            depends.extend(tags);
        }
    }

    /// Everything the answer depends on so far; `None` when not recorded.
    pub fn dependencies(&self) -> Option<Vec<EntityTag>> {
        self.0.depends.as_ref().map(TagSet::snapshot)
    }

    /// The position this request's server has reached: the primary's insert position or the
    /// replica's replay position. Read before the request's reads, it is the position of a cache
    /// fill (`response_cache`).
    pub async fn position(&self) -> AppResult<Lsn> {
        self.run(|conn, _| {
            Box::pin(position(
                conn,
                "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() \
                 ELSE pg_current_wal_insert_lsn() END)::text AS lsn",
            ))
        })
        .await
    }

    fn choice(&self) -> Choice {
        let mut chosen = self.0.chosen.lock().expect("choice lock");
        if let Choice::Undecided = *chosen {
            *chosen = match &self.0.replicas {
                Some((replicas, floor)) => replicas.pick(*floor).map_or(Choice::Primary, Choice::Replica),
                None => Choice::Primary,
            };
        }
        *chosen
    }

    /// Whether this request's reads go to a replica (decided at the first call).
    pub fn on_replica(&self) -> bool {
        matches!(self.choice(), Choice::Replica(_))
    }

    /// Runs the read `read` on this request's server. When it fails there for a reason other
    /// than its own (the replica went away, or cancelled it to replay), it runs again on the
    /// primary, which serves the rest of the request.
    pub async fn run<'a, T, F>(&self, read: F) -> AppResult<T>
    where
        F: for<'r> Fn(&'r mut AsyncPgConnection, Scope<'r, 'a>) -> ReadFuture<'r, T>,
    {
        if let (Choice::Replica(index), Some((replicas, _))) = (self.choice(), &self.0.replicas) {
            let attempt = async {
                let mut conn = replicas.members[index].pool.get_owned().await?;
                read(&mut conn, PhantomData).await
            }
            .await;
            match attempt {
                Err(error @ (AppError::Unavailable | AppError::Internal(_))) => {
                    replicas.failed(index, &error);
                    *self.0.chosen.lock().expect("choice lock") = Choice::Primary;
                }
                done => return done,
            }
        }
        let mut conn = self.0.primary.get_owned().await?;
        read(&mut conn, PhantomData).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_counts_from_the_check_before_the_primary_moved_past_the_replica() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let history: History = [
            (at(0), Lsn(10)),
            (at(200), Lsn(10)),
            (at(400), Lsn(30)),
            (at(600), Lsn(40)),
        ]
        .into();
        let now = at(700);
        assert_eq!(lag(&history, Lsn(40), None, now), Duration::ZERO, "caught up");
        assert_eq!(
            lag(&history, Lsn(50), None, now),
            Duration::ZERO,
            "ahead of the last check"
        );
        // Lacks what was written between the checks at 200 and 400 ms.
        assert_eq!(lag(&history, Lsn(10), None, now), Duration::from_millis(500));
        assert_eq!(lag(&history, Lsn(30), None, now), Duration::from_millis(300));
        // Behind everything remembered: its own replay age decides, at least the history's span.
        assert_eq!(
            lag(&history, Lsn(5), Some(Duration::from_secs(60)), now),
            Duration::from_secs(60)
        );
        assert_eq!(
            lag(&history, Lsn(5), Some(Duration::ZERO), now),
            Duration::from_millis(700)
        );
        assert_eq!(lag(&history, Lsn(5), None, now), Duration::MAX);
    }
}
