//! Persisted documents before execution: Apollo's automatic persisted queries (a sha256 in
//! `extensions.persistedQuery`, documents remembered in Redis or in process), registered
//! documents named by id (`documentId` of the GraphQL-over-HTTP persisted-documents proposal,
//! `sha256:` prefix included, or Relay's `doc_id`), and the optional trusted-documents mode, where
//! only registered documents may run (and, with ROUTER_SECRET, a federation router's plans).

use std::time::Duration;

use async_graphql::Request;
use moka::sync::Cache;

use crate::digest::{as_sha256_hex, sha256_hex};
use crate::domain::documents;
use crate::error::DocumentRefusal;
use crate::memory_cache;
use crate::redis_link::RedisLink;
use crate::state::AppState;
use crate::telemetry;

/// How long an automatically persisted document is remembered.
const APQ_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// Largest document remembered by hash: a larger one runs, but is not stored (clients send it
/// again with its hash; nothing a client can send grows the store by more than this).
pub const APQ_MAX_DOCUMENT_BYTES: usize = 32 * 1024;
/// Bytes of documents this process remembers at most, of each kind.
const LOCAL_BUDGET_BYTES: usize = 8 * 1024 * 1024;
/// Bytes of documents stored in Redis per deployment within one `APQ_TTL` (then new ones are
/// not stored until the window ends).
const REDIS_BUDGET_BYTES: u64 = 64 * 1024 * 1024;

/// Documents known by hash: automatically persisted ones and trusted ones.
pub struct DocumentStore {
    redis: Option<RedisLink>,
    prefix: String,
    /// Automatically persisted documents by hash, in front of Redis.
    local: Cache<String, String>,
    /// Trusted documents by hash, in front of Postgres (they are never removed there).
    trusted: Cache<String, String>,
}

fn by_hash() -> moka::sync::CacheBuilder<String, String, Cache<String, String>> {
    memory_cache::by_bytes(LOCAL_BUDGET_BYTES, |hash: &String, document: &String| {
        hash.len() + document.len()
    })
}

/// A document sent with its hash, to remember once it has passed the limits and validation and
/// run (never before: a document that does not parse or is refused is never stored).
pub struct Pending {
    hash: String,
    document: String,
}

impl Pending {
    /// What storing it costs its caller's rate limit: a point per KiB.
    pub fn points(&self) -> u32 {
        u32::try_from(self.document.len().div_ceil(1024).max(1)).unwrap_or(u32::MAX)
    }
}

impl DocumentStore {
    pub fn new(redis: Option<RedisLink>, prefix: &str) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            local: by_hash().time_to_live(APQ_TTL).build(),
            trusted: by_hash().build(),
        }
    }

    async fn load_apq(&self, hash: &str) -> Option<String> {
        if let Some(found) = self.local.get(hash) {
            return Some(found);
        }
        let redis = self.redis.as_ref()?;
        let mut conn = redis.clone();
        let mut command = redis::cmd("GET");
        command.arg(format!("{}apq:{hash}", self.prefix));
        let call = telemetry::redis("GET", command.query_async::<Option<String>>(&mut conn));
        let found = tokio::time::timeout(Duration::from_millis(100), call)
            .await
            .ok()?
            .ok()??;
        self.local.insert(hash.to_owned(), found.clone());
        Some(found)
    }

    /// Remembers a document that has run (see [`Pending`]), within the budgets.
    pub async fn save(&self, pending: Pending) {
        let Pending { hash, document } = pending;
        self.local.insert(hash.clone(), document.clone());
        let Some(redis) = &self.redis else {
            return;
        };
        let mut conn = redis.clone();
        // The bytes stored in this window: past the budget, nothing more is stored until the
        // window ends with the counter.
        let counter = format!("{}apq:bytes", self.prefix);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("INCRBY")
            .arg(&counter)
            .arg(document.len())
            .cmd("EXPIRE")
            .arg(&counter)
            .arg(APQ_TTL.as_secs())
            .arg("NX")
            .ignore();
        let call = telemetry::redis("MULTI", pipe.query_async::<(u64,)>(&mut conn));
        let stored = match tokio::time::timeout(Duration::from_millis(100), call).await {
            Ok(Ok((bytes,))) => bytes,
            _ => return,
        };
        if stored > REDIS_BUDGET_BYTES {
            tracing::warn!(
                stored,
                "the persisted-query budget in Redis is spent; not storing more"
            );
            return;
        }
        let mut command = redis::cmd("SET");
        command
            .arg(format!("{}apq:{hash}", self.prefix))
            .arg(&document)
            .arg("EX")
            .arg(APQ_TTL.as_secs());
        let call = telemetry::redis("SET", command.query_async::<()>(&mut conn));
        if let Ok(Err(error)) = tokio::time::timeout(Duration::from_millis(100), call).await {
            tracing::debug!(%error, "could not persist a query in Redis");
        }
    }

    async fn load_trusted(&self, state: &AppState, hash: &str) -> Option<String> {
        if let Some(found) = self.trusted.get(hash) {
            return Some(found);
        }
        let mut conn = state.db().await.ok()?;
        let found = documents::find(&mut conn, hash).await.ok()??;
        self.trusted.insert(hash.to_owned(), found.clone());
        Some(found)
    }

    /// The registered document a client names by id: `sha256:<hex>` is the sha256 of its text;
    /// any other id is one a manifest gave it (or, when 64 hex digits, its sha256).
    async fn load_named(&self, state: &AppState, id: &str) -> Option<String> {
        if let Some(hash) = id.strip_prefix("sha256:") {
            return self.load_trusted(state, &as_sha256_hex(hash)?).await;
        }
        // No manifest gives such an id: not worth a statement.
        if id.is_empty() || id.len() > documents::MAX_ID_LENGTH {
            return None;
        }
        // A sha256 already known costs nothing (a manifest's 64-hex id is its sha256).
        if let Some(found) = as_sha256_hex(id).and_then(|hash| self.trusted.get(&hash)) {
            return Some(found);
        }
        // Cached apart from sha256 keys: `id:` is no hex digit.
        let key = format!("id:{id}");
        if let Some(found) = self.trusted.get(&key) {
            return Some(found);
        }
        let mut conn = state.db().await.ok()?;
        let found = match documents::find_by_id(&mut conn, id).await.ok()? {
            Some(found) => found,
            None => {
                drop(conn);
                return self.load_trusted(state, &as_sha256_hex(id)?).await;
            }
        };
        self.trusted.insert(key, found.clone());
        Some(found)
    }
}

/// The `{version, sha256Hash}` of `extensions.persistedQuery`, if the request carries one.
fn persisted_hash(request: &Request) -> Result<Option<String>, DocumentRefusal> {
    let Some(extension) = request.extensions.get("persistedQuery") else {
        return Ok(None);
    };
    let value = extension
        .clone()
        .into_json()
        .map_err(|_| DocumentRefusal::Unsupported)?;
    let version = value.get("version").and_then(serde_json::Value::as_i64);
    let hash = value.get("sha256Hash").and_then(serde_json::Value::as_str);
    match (version, hash.and_then(as_sha256_hex)) {
        (Some(1), Some(hash)) => Ok(Some(hash)),
        _ => Err(DocumentRefusal::Unsupported),
    }
}

/// How a request reached the document store: what it sent beside its GraphQL fields, and who
/// sent it.
#[derive(Debug, Default, Clone, Copy)]
pub struct Submission<'a> {
    /// The id of a registered document (`documentId` or `doc_id`), sent instead of its text.
    pub document_id: Option<&'a str>,
    /// The caller presented ROUTER_SECRET: a federation router, whose query plans are made at
    /// run time and so are never registered.
    pub from_router: bool,
}

/// Fills in or checks the request's document before it runs (before it is parsed: in trusted
/// mode nothing unregistered is parsed).
///
/// A document sent with its hash comes back as [`Pending`]: the pipeline stores it once it has
/// run.
pub async fn resolve(
    state: &AppState,
    store: &DocumentStore,
    request: &mut Request,
    submission: Submission<'_>,
) -> Result<Option<Pending>, DocumentRefusal> {
    if let Some(id) = submission.document_id {
        if !request.query.trim().is_empty() || request.extensions.contains_key("persistedQuery") {
            return Err(DocumentRefusal::DocumentAndId);
        }
        request.query = store
            .load_named(state, id)
            .await
            .ok_or(DocumentRefusal::UnknownId)?;
        return Ok(None);
    }
    let hash = persisted_hash(request)?;
    let trusted_only = state.config().trusted_documents && !submission.from_router;
    let has_document = !request.query.trim().is_empty();
    match (hash, has_document) {
        (Some(hash), false) => {
            let found = if trusted_only {
                store.load_trusted(state, &hash).await
            } else {
                store.load_apq(&hash).await
            };
            request.query = found.ok_or(if trusted_only {
                DocumentRefusal::NotTrusted
            } else {
                DocumentRefusal::NotFound
            })?;
            Ok(None)
        }
        (Some(hash), true) => {
            if sha256_hex(&request.query) != hash {
                return Err(DocumentRefusal::HashMismatch);
            }
            if trusted_only {
                store
                    .load_trusted(state, &hash)
                    .await
                    .map(|_| None)
                    .ok_or(DocumentRefusal::NotTrusted)
            } else {
                Ok((request.query.len() <= APQ_MAX_DOCUMENT_BYTES).then(|| Pending {
                    hash,
                    document: request.query.clone(),
                }))
            }
        }
        (None, _) if trusted_only => {
            let hash = sha256_hex(&request.query);
            store
                .load_trusted(state, &hash)
                .await
                .map(|_| None)
                .ok_or(DocumentRefusal::NotTrusted)
        }
        (None, _) => Ok(None),
    }
}
