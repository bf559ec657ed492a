//! `blog-gateway healthcheck`: a dependency-free HTTP probe for container health checks.

use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Succeeds when `GET {base}/api/health` answers 200 with status OK (or DEGRADED: the API
/// serves without Redis, so the container should not be restarted for it).
pub async fn healthcheck(base: &str) -> anyhow::Result<()> {
    let url = url::Url::parse(base).with_context(|| format!("{base} is not a URL"))?;
    if url.scheme() != "http" {
        bail!("only http:// URLs can be checked, got {base}");
    }
    let host = url.host_str().context("the URL has no host")?.to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let probe = async {
        let mut stream = TcpStream::connect((host.as_str(), port))
            .await
            .with_context(|| format!("cannot connect to {host}:{port}"))?;
        let request = format!(
            "GET /api/health HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\nAccept: application/json\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.take(64 * 1024).read_to_end(&mut response).await?;
        Ok::<_, anyhow::Error>(String::from_utf8_lossy(&response).into_owned())
    };
    let response = tokio::time::timeout(Duration::from_secs(5), probe)
        .await
        .context("the health check timed out after 5 s")??;
    let status_line = response.lines().next().unwrap_or("");
    let status: Option<serde_json::Value> = response
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body.trim()).ok());
    let overall = status
        .as_ref()
        .and_then(|b| b["status"].as_str())
        .unwrap_or("unknown");
    if status_line.split_whitespace().nth(1) == Some("200") && matches!(overall, "OK" | "DEGRADED") {
        println!("healthy: {overall}");
        Ok(())
    } else {
        bail!("unhealthy: {status_line} (status {overall})")
    }
}
