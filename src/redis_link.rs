//! The one Redis connection of an instance, whatever REDIS_URL names: a single server
//! (`redis://`), a Redis Cluster (`redis+cluster://host1:port1,host2:port2` or a comma-separated
//! list of `redis://` seeds), or the master of a Sentinel group
//! (`redis+sentinel://sentinel1:26379,sentinel2:26379/<master name>`). Every feature talks to it
//! through [`RedisLink`], which is a [`ConnectionLike`]: commands and scripts run on it as on one
//! connection, and each feature keeps every script to the keys it declares (one key per call, or
//! keys sharing a hash tag), so each works on a cluster.
//!
//! - Single server: redis' `ConnectionManager` (reconnects by itself).
//! - Cluster: redis' async cluster client, connected at first use (Redis may be down at start);
//!   it follows slot moves and promoted replicas. Pub/sub uses a plain connection to any seed
//!   that answers: a cluster delivers every PUBLISH to every node's subscribers.
//! - Sentinel: every [`SENTINEL_CHECK`] the sentinels are asked for the master's address; when it
//!   changes (a failover), commands move to the new master. Pub/sub follows it the same way.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelServerType};
use redis::{Client, Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, RedisResult, Value};
use tokio::sync::OnceCell;

use crate::db::lsn::Lsn;

/// How often the sentinels are asked where the master is.
pub const SENTINEL_CHECK: Duration = Duration::from_millis(500);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// What REDIS_URL names, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topology {
    /// One server.
    Single(String),
    /// Seed nodes of a cluster, as `redis://` URLs.
    Cluster(Vec<String>),
    /// Sentinels (as `redis://` URLs) and the name of the master they watch.
    Sentinel { sentinels: Vec<String>, master: String },
}

const EXPECTED: &str = "expected redis://host:port, redis+cluster://host1:port1,host2:port2 (or \
    comma-separated redis:// seeds), or redis+sentinel://host1:26379,host2:26379/<master name>";

impl Topology {
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if let Some(rest) = value.strip_prefix("redis+cluster://") {
            let (credentials, hosts) = split_credentials(rest);
            let hosts = hosts.trim_end_matches('/');
            let seeds = hosts
                .split(',')
                .map(|host| node_url("redis", credentials, host.trim()))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Topology::Cluster(seeds));
        }
        if let Some(rest) = value.strip_prefix("redis+sentinel://") {
            let (credentials, rest) = split_credentials(rest);
            let (hosts, master) = rest
                .split_once('/')
                .ok_or_else(|| format!("a Sentinel URL names its master after a slash ({EXPECTED})"))?;
            let master = master.trim_end_matches('/');
            if master.is_empty() || master.contains('/') {
                return Err(format!(
                    "a Sentinel URL names its master after a slash ({EXPECTED})"
                ));
            }
            let sentinels = hosts
                .split(',')
                .map(|host| node_url("redis", credentials, host.trim()))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Topology::Sentinel {
                sentinels,
                master: master.to_owned(),
            });
        }
        let urls: Vec<&str> = value.split(',').map(str::trim).collect();
        for url in &urls {
            let parsed = url::Url::parse(url).map_err(|e| format!("{EXPECTED} ({e})"))?;
            if !matches!(parsed.scheme(), "redis" | "rediss") || parsed.host_str().is_none() {
                return Err(EXPECTED.to_owned());
            }
        }
        Ok(match urls.as_slice() {
            [one] => Topology::Single((*one).to_owned()),
            _ => Topology::Cluster(urls.iter().map(|u| (*u).to_owned()).collect()),
        })
    }

    /// How it is named in logs and health (no credentials).
    pub fn kind(&self) -> &'static str {
        match self {
            Topology::Single(_) => "single",
            Topology::Cluster(_) => "cluster",
            Topology::Sentinel { .. } => "sentinel",
        }
    }
}

fn split_credentials(rest: &str) -> (Option<&str>, &str) {
    match rest.rsplit_once('@') {
        Some((credentials, hosts)) => (Some(credentials), hosts),
        None => (None, rest),
    }
}

fn node_url(scheme: &str, credentials: Option<&str>, host: &str) -> Result<String, String> {
    let url = match credentials {
        Some(credentials) => format!("{scheme}://{credentials}@{host}"),
        None => format!("{scheme}://{host}"),
    };
    let parsed = url::Url::parse(&url).map_err(|e| format!("{EXPECTED} ({e})"))?;
    if parsed.host_str().is_none_or(str::is_empty) || parsed.port().is_none() {
        return Err(format!("each node needs a host and a port ({EXPECTED})"));
    }
    Ok(url)
}

/// The instance's Redis, cheap to clone.
#[derive(Clone)]
pub struct RedisLink {
    conn: Conn,
    topology: Arc<Topology>,
}

#[derive(Clone)]
enum Conn {
    Single(ConnectionManager, Client),
    Cluster(Arc<ClusterLink>),
    Sentinel(Arc<SentinelLink>),
}

struct ClusterLink {
    client: redis::cluster::ClusterClient,
    connection: OnceCell<ClusterConnection>,
}

struct SentinelLink {
    /// The current master: its client (for pub/sub) and connection.
    master: RwLock<Option<(Client, ConnectionManager)>>,
}

fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
}

fn not_connected(what: &str) -> RedisError {
    RedisError::from((ErrorKind::Io, "not connected", what.to_owned()))
}

impl RedisLink {
    /// Connects lazily: Redis may be down at start; commands fail until it is reachable.
    pub fn connect(url: &str) -> anyhow::Result<Self> {
        let topology = Topology::parse(url).map_err(|e| anyhow::anyhow!(e))?;
        let conn = match &topology {
            Topology::Single(url) => {
                let client = Client::open(url.as_str()).context("REDIS_URL")?;
                let manager = ConnectionManager::new_lazy_with_config(client.clone(), manager_config())?;
                Conn::Single(manager, client)
            }
            Topology::Cluster(seeds) => {
                let client = redis::cluster::ClusterClient::builder(seeds.iter().map(String::as_str))
                    .connection_timeout(CONNECT_TIMEOUT)
                    .response_timeout(RESPONSE_TIMEOUT)
                    .retries(3)
                    .min_retry_wait(50)
                    .max_retry_wait(500)
                    .build()
                    .context("REDIS_URL")?;
                Conn::Cluster(Arc::new(ClusterLink {
                    client,
                    connection: OnceCell::new(),
                }))
            }
            Topology::Sentinel { sentinels, master } => {
                let sentinel = SentinelClient::build(
                    sentinels.iter().map(String::as_str).collect(),
                    master.clone(),
                    Some(master_credentials(&sentinels[0])),
                    SentinelServerType::Master,
                )
                .context("REDIS_URL")?;
                let link = Arc::new(SentinelLink {
                    master: RwLock::new(None),
                });
                spawn_sentinel_watch(Arc::downgrade(&link), sentinel);
                Conn::Sentinel(link)
            }
        };
        Ok(Self {
            conn,
            topology: Arc::new(topology),
        })
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// A pub/sub connection that receives every PUBLISH of the deployment.
    pub async fn pubsub(&self) -> RedisResult<redis::aio::PubSub> {
        match &self.conn {
            Conn::Single(_, client) => client.get_async_pubsub().await,
            Conn::Cluster(_) => {
                let Topology::Cluster(seeds) = self.topology.as_ref() else {
                    unreachable!("a cluster link has a cluster topology")
                };
                let mut last = not_connected("no cluster seed answered");
                for seed in seeds {
                    let client = Client::open(seed.as_str())?;
                    match tokio::time::timeout(CONNECT_TIMEOUT, client.get_async_pubsub()).await {
                        Ok(Ok(pubsub)) => return Ok(pubsub),
                        Ok(Err(error)) => last = error,
                        Err(_) => last = not_connected("a cluster seed did not answer in time"),
                    }
                }
                Err(last)
            }
            Conn::Sentinel(link) => {
                let client = link
                    .master
                    .read()
                    .expect("master lock")
                    .as_ref()
                    .map(|(client, _)| client.clone())
                    .ok_or_else(|| not_connected("the sentinels have not named a master yet"))?;
                client.get_async_pubsub().await
            }
        }
    }

    async fn cluster(link: &ClusterLink) -> RedisResult<ClusterConnection> {
        link.connection
            .get_or_try_init(|| link.client.get_async_connection())
            .await
            .cloned()
    }
}

/// Raises a stored position to at least the given one (fixed-width hex: text order is numeric
/// order) and restarts its expiry: one key per call, so it runs on any topology.
const RAISE_SCRIPT: &str = r"
local old = redis.call('GET', KEYS[1])
if old == false or ARGV[1] > old then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
";

static RAISE: std::sync::LazyLock<redis::Script> =
    std::sync::LazyLock::new(|| redis::Script::new(RAISE_SCRIPT));

impl RedisLink {
    /// Raises the position stored at `key` to `to` (never lowers it), kept for `ttl`.
    pub async fn raise(&self, key: String, to: Lsn, ttl: Duration) -> RedisResult<()> {
        let mut conn = self.clone();
        let mut invocation = RAISE.key(key);
        invocation
            .arg(to.to_key_text())
            .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX));
        crate::telemetry::redis("EVALSHA", invocation.invoke_async::<i64>(&mut conn)).await?;
        Ok(())
    }
}

/// The URL's credentials, for the master the sentinels name (they apply to both).
fn master_credentials(url: &str) -> redis::sentinel::SentinelNodeConnectionInfo {
    let mut info = redis::RedisConnectionInfo::default();
    if let Ok(url) = url::Url::parse(url) {
        if !url.username().is_empty() {
            info = info.set_username(url.username());
        }
        if let Some(password) = url.password() {
            info = info.set_password(password);
        }
    }
    redis::sentinel::SentinelNodeConnectionInfo::default().set_redis_connection_info(info)
}

/// Asks the sentinels where the master is, now and every [`SENTINEL_CHECK`], and moves to it
/// when it changes. Stops when the link is dropped.
fn spawn_sentinel_watch(link: std::sync::Weak<SentinelLink>, mut sentinel: SentinelClient) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(SENTINEL_CHECK);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut current: Option<String> = None;
        loop {
            ticks.tick().await;
            let Some(link) = link.upgrade() else {
                return;
            };
            let found = tokio::time::timeout(CONNECT_TIMEOUT, sentinel.async_get_client()).await;
            let client = match found {
                Ok(Ok(client)) => client,
                Ok(Err(error)) => {
                    tracing::warn!(%error, "sentinel: cannot find the master");
                    continue;
                }
                Err(_) => {
                    tracing::warn!("sentinel: no answer in time");
                    continue;
                }
            };
            let address = client.get_connection_info().addr().to_string();
            if current.as_deref() == Some(address.as_str()) {
                continue;
            }
            match ConnectionManager::new_lazy_with_config(client.clone(), manager_config()) {
                Ok(manager) => {
                    tracing::info!(master = %address, previous = ?current, "sentinel: using master");
                    *link.master.write().expect("master lock") = Some((client, manager));
                    current = Some(address);
                }
                Err(error) => tracing::warn!(%error, "sentinel: cannot use the master"),
            }
        }
    });
}

impl ConnectionLike for RedisLink {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match &mut self.conn {
            Conn::Single(manager, _) => manager.req_packed_command(cmd),
            Conn::Cluster(link) => {
                let link = link.clone();
                Box::pin(async move { Self::cluster(&link).await?.req_packed_command(cmd).await })
            }
            Conn::Sentinel(link) => {
                let master = link.master.read().expect("master lock").clone();
                Box::pin(async move {
                    let (_, mut manager) = master.ok_or_else(|| not_connected("no master yet"))?;
                    manager.req_packed_command(cmd).await
                })
            }
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match &mut self.conn {
            Conn::Single(manager, _) => manager.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(link) => {
                let link = link.clone();
                Box::pin(async move {
                    Self::cluster(&link)
                        .await?
                        .req_packed_commands(pipeline, offset, count)
                        .await
                })
            }
            Conn::Sentinel(link) => {
                let master = link.master.read().expect("master lock").clone();
                Box::pin(async move {
                    let (_, mut manager) = master.ok_or_else(|| not_connected("no master yet"))?;
                    manager.req_packed_commands(pipeline, offset, count).await
                })
            }
        }
    }

    fn get_db(&self) -> i64 {
        match &self.conn {
            Conn::Single(manager, _) => manager.get_db(),
            Conn::Cluster(_) => 0,
            Conn::Sentinel(_) => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topology_is_read_from_its_url() {
        assert_eq!(
            Topology::parse("redis://127.0.0.1:6379"),
            Ok(Topology::Single("redis://127.0.0.1:6379".into()))
        );
        assert_eq!(
            Topology::parse("redis+cluster://:secret@10.0.0.1:7000,10.0.0.2:7001/"),
            Ok(Topology::Cluster(vec![
                "redis://:secret@10.0.0.1:7000".into(),
                "redis://:secret@10.0.0.2:7001".into()
            ]))
        );
        assert_eq!(
            Topology::parse("redis://a:7000, redis://b:7001"),
            Ok(Topology::Cluster(vec![
                "redis://a:7000".into(),
                "redis://b:7001".into()
            ]))
        );
        assert_eq!(
            Topology::parse("redis+sentinel://s1:26379,s2:26380/blog"),
            Ok(Topology::Sentinel {
                sentinels: vec!["redis://s1:26379".into(), "redis://s2:26380".into()],
                master: "blog".into()
            })
        );
        assert!(
            Topology::parse("redis+sentinel://s1:26379").is_err(),
            "no master name"
        );
        assert!(
            Topology::parse("redis+cluster://a:7000,b").is_err(),
            "a seed without a port"
        );
        assert!(Topology::parse("http://a:1").is_err());
    }
}
