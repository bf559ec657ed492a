//! Private PostgreSQL servers for tests that need more than the shared server on 5432: a primary
//! with a streaming replica, on free loopback ports, under the test's own directory (removed
//! after). The shared server is never touched. Postgres refuses to run as root, so as root the
//! servers run as the `postgres` user, in a directory under the system's temporary directory
//! that it owns.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::processes::{free_port, tool_ready};

static NEXT_DIR: AtomicU32 = AtomicU32::new(0);

/// The directory of the installed PostgreSQL's programs (`pg_config --bindir`).
fn bindir() -> Option<PathBuf> {
    let output = Command::new("pg_config").arg("--bindir").output().ok()?;
    let dir = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
    dir.join("initdb").is_file().then_some(dir)
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// One server of the pair.
pub struct PgServer {
    pub port: u16,
    data: PathBuf,
    log: PathBuf,
}

impl PgServer {
    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    pub async fn connect(&self, name: &str) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url(name))
            .await
            .unwrap_or_else(|e| panic!("connect to the private server on {}: {e}", self.port))
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A primary and one streaming replica of it (`pg_basebackup -R`).
pub struct Replicated {
    dir: PathBuf,
    bindir: PathBuf,
    as_root: bool,
    pub primary: PgServer,
    pub replica: PgServer,
}

impl Replicated {
    /// Starts both servers; `None` (skipped, or failed under CI) when PostgreSQL's server
    /// programs are not installed.
    pub fn start(test: &str) -> Option<Self> {
        let bindir = bindir();
        if !tool_ready(
            test,
            bindir.is_some(),
            "PostgreSQL's server programs (initdb, pg_ctl, pg_basebackup; Debian package postgresql) are not installed",
        ) {
            return None;
        }
        let dir = std::env::temp_dir().join(format!(
            "bg-pg-{}-{}",
            std::process::id(),
            NEXT_DIR.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let as_root = running_as_root();
        let pair = Self {
            primary: PgServer {
                port: free_port(),
                data: dir.join("primary"),
                log: dir.join("primary.log"),
            },
            replica: PgServer {
                port: free_port(),
                data: dir.join("replica"),
                log: dir.join("replica.log"),
            },
            dir,
            bindir: bindir.unwrap(),
            as_root,
        };
        if as_root {
            pair.run("chown", &["postgres:postgres", pair.dir.to_str().unwrap()], false);
        }
        pair.init_primary();
        pair.start_server(&pair.primary);
        pair.base_backup();
        pair.start_server(&pair.replica);
        Some(pair)
    }

    /// `program` (from PostgreSQL's bindir when `postgres_tool`), as the `postgres` user when
    /// the test runs as root. Panics with its output when it fails.
    fn run(&self, program: &str, args: &[&str], postgres_tool: bool) {
        let path = if postgres_tool {
            self.bindir.join(program)
        } else {
            PathBuf::from(program)
        };
        let mut command = if self.as_root && postgres_tool {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&path);
            command
        } else {
            Command::new(&path)
        };
        command.args(args).current_dir(&self.dir).stdin(Stdio::null());
        let output = command.output().unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn init_primary(&self) {
        let data = self.primary.data.to_str().unwrap();
        self.run(
            "initdb",
            &[
                "-D",
                data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            true,
        );
        let socket_dir = self.dir.to_str().unwrap();
        append(
            &self.primary.data.join("postgresql.conf"),
            &format!(
                "\n# blog-gateway test: a primary for streaming replication\n\
                 port = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{socket_dir}'\n\
                 wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n\
                 shared_preload_libraries = 'pg_stat_statements'\nfsync = off\nfull_page_writes = off\n\
                 max_connections = 200\n",
                self.primary.port
            ),
        );
        append(
            &self.primary.data.join("pg_hba.conf"),
            "\n# blog-gateway test: the replica streams from loopback\nhost replication postgres 127.0.0.1/32 trust\n",
        );
    }

    fn base_backup(&self) {
        let port = self.primary.port.to_string();
        self.run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                self.replica.data.to_str().unwrap(),
                "-R",
                "-X",
                "stream",
                "--no-sync",
            ],
            true,
        );
        append(
            &self.replica.data.join("postgresql.conf"),
            &format!(
                "\n# blog-gateway test: the replica\nport = {}\n",
                self.replica.port
            ),
        );
    }

    fn start_server(&self, server: &PgServer) {
        self.run(
            "pg_ctl",
            &[
                "-D",
                server.data.to_str().unwrap(),
                "-l",
                server.log.to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "start",
            ],
            true,
        );
    }

    fn stop_server(&self, server: &PgServer, mode: &str) {
        self.run(
            "pg_ctl",
            &["-D", server.data.to_str().unwrap(), "-m", mode, "-w", "stop"],
            true,
        );
    }

    /// Stops the replica the way an operator would (`pg_ctl stop -m fast`: its sessions are
    /// ended mid-statement).
    pub fn stop_replica(&self) {
        self.stop_server(&self.replica, "fast");
    }

    pub fn start_replica(&self) {
        self.start_server(&self.replica);
    }

    /// Creates database `name` on the primary with `pg_stat_statements`, and waits until the
    /// replica has it too.
    pub async fn create_database(&self, name: &str) {
        let mut admin = self.primary.connect("postgres").await;
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .unwrap();
        let mut db = self.primary.connect(name).await;
        diesel::sql_query("CREATE EXTENSION pg_stat_statements")
            .execute(&mut db)
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if AsyncPgConnection::establish(&self.replica.url(name))
                .await
                .is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the replica never received database {name}: {}",
                self.replica.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Replicated {
    fn drop(&mut self) {
        for server in [&self.replica, &self.primary] {
            if server.data.join("postmaster.pid").exists() {
                let mut command = if self.as_root {
                    let mut command = Command::new("runuser");
                    command
                        .args(["-u", "postgres", "--"])
                        .arg(self.bindir.join("pg_ctl"));
                    command
                } else {
                    Command::new(self.bindir.join("pg_ctl"))
                };
                let _ = command
                    .args([
                        "-D",
                        server.data.to_str().unwrap(),
                        "-m",
                        "immediate",
                        "-w",
                        "stop",
                    ])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
}
