//! The GraphQL-over-HTTP server audits of the pinned `graphql-http` package (every audit of
//! `serverAudits`) against a live gateway. Needs Node.js and tests/audit/node_modules
//! (`scripts/audit-deps.sh` installs them); it fails when they are missing.

use std::path::Path;
use std::process::Command;

use blog_gateway::db::models::Role;

use crate::common::{TestApp, on_path, tool_ready};

/// How many audits graphql-http 1.23.1 (tests/audit/package.json) has: fewer would mean some
/// did not run.
const AUDITS: u32 = 61;

#[tokio::test]
async fn graphql_over_http_audits_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !tool_ready(
        "audit::graphql_over_http_audits_pass",
        on_path("node") && root.join("tests/audit/node_modules/graphql-http").is_dir(),
        "node or tests/audit/node_modules/graphql-http is missing: run scripts/audit-deps.sh",
    ) {
        return;
    }
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    app.post(&ann, "Audited post", true).await;
    let server = app.serve().await;
    let script = root.join("tests/audit/graphql-http.mjs");
    let base = format!("http://{}", server.address);
    let output = tokio::task::spawn_blocking(move || Command::new("node").arg(script).arg(base).output())
        .await
        .unwrap()
        .expect("node runs (install it with scripts/audit-deps.sh)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "GraphQL-over-HTTP audits failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let summary = stdout
        .lines()
        .find_map(|line| line.strip_prefix("audits: "))
        .unwrap_or_else(|| panic!("no summary line:\n{stdout}"));
    let counts: Vec<u32> = summary
        .split(", ")
        .map(|part| part.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(counts.iter().sum::<u32>(), AUDITS, "every audit runs:\n{stdout}");
}
