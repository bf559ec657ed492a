//! HAProxy in front of gateway processes, for tests: the deployment's own configuration
//! (`deploy/haproxy.cfg`: health checks on `/api/health`, retries of what may be repeated on
//! another instance) on a free loopback port, under the test's own directory (removed after).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::processes::{free_port, http, on_path, tool_ready};

pub struct Balancer {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

/// The deployment's configuration (`deploy/haproxy.cfg`) with a loopback `bind` and the
/// test's gateways as its servers.
fn configuration(port: u16, servers: &[u16]) -> String {
    let shipped =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/haproxy.cfg"))
            .expect("deploy/haproxy.cfg");
    let mut config = String::new();
    for line in shipped.lines() {
        match line.trim_start() {
            bind if bind.starts_with("bind ") => config.push_str(&format!("  bind 127.0.0.1:{port}\n")),
            server if server.starts_with("server ") => {}
            _ => config.push_str(&format!("{line}\n")),
        }
    }
    for (n, server) in servers.iter().enumerate() {
        config.push_str(&format!("  server g{n} 127.0.0.1:{server} check\n"));
    }
    config
}

impl Balancer {
    /// Starts HAProxy over the gateways listening on `servers`; waits until it answers.
    pub fn start(test: &str, servers: &[u16]) -> Option<Self> {
        if !tool_ready(
            test,
            on_path("haproxy"),
            "haproxy is not installed (Debian package haproxy; scripts/services.sh installs it)",
        ) {
            return None;
        }
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("bg-haproxy-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("haproxy.cfg");
        std::fs::write(&file, configuration(port, servers)).unwrap();
        let checked = Command::new("haproxy")
            .arg("-c")
            .arg("-f")
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            checked.status.success(),
            "haproxy refuses its configuration: {}",
            String::from_utf8_lossy(&checked.stderr)
        );
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("haproxy starts");
        let balancer = Self {
            port,
            dir,
            child: Some(child),
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(balancer.address()).is_err()
            || http(balancer.address(), "GET", "/api/health", &[], None).0 != 200
        {
            assert!(
                Instant::now() < deadline,
                "haproxy never answered through a gateway"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(balancer)
    }

    pub fn address(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
