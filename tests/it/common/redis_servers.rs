//! Private Redis topologies for tests, on free loopback ports under the test's own directory
//! (removed after): a Redis Cluster of three masters with a replica each, and a master with a
//! replica watched by three Sentinels. The shared Redis on 6379 is never touched.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::processes::{free_port, on_path, tool_ready};

static NEXT_DIR: AtomicU32 = AtomicU32::new(0);

fn private_dir(kind: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "bg-{kind}-{}-{}",
        std::process::id(),
        NEXT_DIR.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `redis-cli -p port args...`, its output trimmed.
pub fn redis_cli(port: u16, args: &[&str]) -> String {
    let output = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// The keys matching `pattern` held by the server on `port` (a cluster node holds its slots').
pub fn keys_on(port: u16, pattern: &str) -> Vec<String> {
    redis_cli(port, &["--scan", "--pattern", pattern])
        .lines()
        .map(str::to_owned)
        .filter(|k| !k.is_empty())
        .collect()
}

fn wait_for(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One redis-server of a test (nothing saved to disk), on `port`; killed when dropped.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts it with `extra` arguments and waits until it answers PING.
    pub fn start(port: u16, extra: &[&str]) -> Self {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts (Debian package redis-server)");
        wait_for("redis-server", Duration::from_secs(10), || {
            redis_cli(port, &["PING"]) == "PONG"
        });
        Self {
            port,
            child: Some(child),
        }
    }

    /// Kills it (SIGKILL).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn running(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A server of a topology, its files (cluster state) under the topology's directory.
fn redis_server(dir: &std::path::Path, port: u16, extra: &[&str]) -> RedisServer {
    let mut args = vec!["--dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    RedisServer::start(port, &args)
}

fn stop_all(servers: &mut [RedisServer], dir: &PathBuf) {
    for server in servers {
        server.stop();
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Three masters with one replica each (`redis-server --cluster-enabled yes`,
/// `redis-cli --cluster create --cluster-replicas 1`), nodes time out after one second.
pub struct RedisCluster {
    dir: PathBuf,
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    pub fn start(test: &str) -> Option<Self> {
        if !tool_ready(
            test,
            on_path("redis-server") && on_path("redis-cli"),
            "redis-server and redis-cli are not installed (Debian package redis-server)",
        ) {
            return None;
        }
        let dir = private_dir("redis-cluster");
        let mut nodes = Vec::new();
        for _ in 0..6 {
            let port = free_port();
            let config = format!("nodes-{port}.conf");
            nodes.push(redis_server(
                &dir,
                port,
                &[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    &config,
                    "--cluster-node-timeout",
                    "1000",
                    // With a one-second node timeout, a replica otherwise judges its data too
                    // old to take over.
                    "--cluster-replica-validity-factor",
                    "0",
                ],
            ));
        }
        let addresses: Vec<String> = nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)).collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .expect("redis-cli --cluster create runs");
        assert!(
            created.status.success(),
            "cluster create failed: {}",
            String::from_utf8_lossy(&created.stdout)
        );
        let cluster = Self { dir, nodes };
        cluster.wait_until_ok();
        Some(cluster)
    }

    /// Every live node says `cluster_state:ok` and there are three masters.
    pub fn wait_until_ok(&self) {
        wait_for("cluster_state:ok on every node", Duration::from_secs(30), || {
            self.live_ports()
                .iter()
                .all(|port| redis_cli(*port, &["CLUSTER", "INFO"]).contains("cluster_state:ok"))
                && self.masters().len() == 3
        });
    }

    fn live_ports(&self) -> Vec<u16> {
        self.nodes
            .iter()
            .filter(|n| n.running())
            .map(|n| n.port)
            .collect()
    }

    /// `redis+cluster://` with every node as a seed.
    pub fn url(&self) -> String {
        let seeds: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        format!("redis+cluster://{}", seeds.join(","))
    }

    /// The ports of the live masters that serve slots.
    pub fn masters(&self) -> Vec<u16> {
        let live = self.live_ports();
        let Some(port) = live.first() else {
            return Vec::new();
        };
        redis_cli(*port, &["CLUSTER", "NODES"])
            .lines()
            .filter(|line| line.contains("master") && !line.contains("fail") && line.split(' ').count() > 8)
            .filter_map(|line| {
                let address = line.split(' ').nth(1)?;
                address.split('@').next()?.rsplit(':').next()?.parse().ok()
            })
            .filter(|port| live.contains(port))
            .collect()
    }

    /// `CLUSTER NODES` as a live node reports it (for failure messages).
    pub fn describe(&self) -> String {
        self.live_ports()
            .first()
            .map_or(String::new(), |port| redis_cli(*port, &["CLUSTER", "NODES"]))
    }

    /// Kills the node on `port` (SIGKILL: no goodbye to the cluster).
    pub fn kill(&mut self, port: u16) {
        self.nodes.iter_mut().find(|n| n.port == port).unwrap().stop();
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        stop_all(&mut self.nodes, &self.dir);
    }
}

/// A master and its replica, watched by three Sentinels (quorum 2, down after one second).
pub struct RedisSentinels {
    dir: PathBuf,
    pub master: u16,
    pub replica: u16,
    sentinels: Vec<u16>,
    servers: Vec<RedisServer>,
}

/// The name the Sentinels know the master by.
pub const SENTINEL_MASTER: &str = "blog";

impl RedisSentinels {
    pub fn start(test: &str) -> Option<Self> {
        if !tool_ready(
            test,
            on_path("redis-server") && on_path("redis-sentinel"),
            "redis-server or redis-sentinel is not installed (Debian packages redis-server and redis-sentinel)",
        ) {
            return None;
        }
        let dir = private_dir("redis-sentinel");
        let (master, replica) = (free_port(), free_port());
        let mut servers = vec![redis_server(&dir, master, &[])];
        servers.push(redis_server(
            &dir,
            replica,
            &["--replicaof", "127.0.0.1", &master.to_string()],
        ));
        wait_for("the replica's first sync", Duration::from_secs(15), || {
            redis_cli(replica, &["INFO", "replication"]).contains("master_link_status:up")
        });
        let mut sentinels = Vec::new();
        for _ in 0..3 {
            let port = free_port();
            let config = dir.join(format!("sentinel-{port}.conf"));
            std::fs::write(
                &config,
                format!(
                    "port {port}\nbind 127.0.0.1\ndir {}\n\
                     sentinel monitor {SENTINEL_MASTER} 127.0.0.1 {master} 2\n\
                     sentinel down-after-milliseconds {SENTINEL_MASTER} 1000\n\
                     sentinel failover-timeout {SENTINEL_MASTER} 5000\n\
                     sentinel parallel-syncs {SENTINEL_MASTER} 1\n",
                    dir.display()
                ),
            )
            .unwrap();
            let child = Command::new("redis-sentinel")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-sentinel starts");
            wait_for("a sentinel", Duration::from_secs(10), || {
                redis_cli(port, &["PING"]) == "PONG"
            });
            servers.push(RedisServer {
                port,
                child: Some(child),
            });
            sentinels.push(port);
        }
        let pair = Self {
            dir,
            master,
            replica,
            sentinels,
            servers,
        };
        // Every sentinel has found the replica and the other sentinels.
        wait_for(
            "the sentinels to know each other",
            Duration::from_secs(20),
            || {
                pair.sentinels.iter().all(|port| {
                    let info = redis_cli(*port, &["SENTINEL", "MASTER", SENTINEL_MASTER]);
                    let lines: Vec<&str> = info.lines().collect();
                    let field = |name: &str| {
                        lines
                            .chunks(2)
                            .find(|pair| pair[0] == name)
                            .and_then(|pair| pair.get(1)?.parse::<u32>().ok())
                            .unwrap_or(0)
                    };
                    field("num-slaves") >= 1 && field("num-other-sentinels") >= 2
                })
            },
        );
        Some(pair)
    }

    pub fn url(&self) -> String {
        let nodes: Vec<String> = self.sentinels.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        format!("redis+sentinel://{}/{SENTINEL_MASTER}", nodes.join(","))
    }

    /// The master's port as the first sentinel reports it.
    pub fn reported_master(&self) -> Option<u16> {
        let reply = redis_cli(
            self.sentinels[0],
            &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", SENTINEL_MASTER],
        );
        reply.lines().nth(1)?.trim().parse().ok()
    }

    /// Kills the master (SIGKILL).
    pub fn kill_master(&mut self) {
        let master = self.master;
        self.servers.iter_mut().find(|s| s.port == master).unwrap().stop();
    }
}

impl Drop for RedisSentinels {
    fn drop(&mut self) {
        stop_all(&mut self.servers, &self.dir);
    }
}
