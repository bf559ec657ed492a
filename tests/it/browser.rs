//! GraphiQL in headless Chromium: the page loads from the server alone, runs its example query
//! with a bearer token from the Headers tab, and shows data. Needs Debian's chromium and the
//! pinned playwright-core (`scripts/browser-deps.sh` installs both); skipped without them, except
//! under `CI=true`.

use std::process::Command;

use blog_gateway::db::models::Role;

use crate::common::{TestApp, on_path, tool_ready};

#[tokio::test]
async fn graphiql_runs_its_example_query_offline() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    if !tool_ready(
        "browser::graphiql_runs_its_example_query_offline",
        on_path("node")
            && on_path("chromium")
            && root.join("tests/browser/node_modules/playwright-core").is_dir(),
        "node, chromium or tests/browser/node_modules is missing: run scripts/browser-deps.sh",
    ) {
        return;
    }
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    app.post(&ann, "Visible in GraphiQL", true).await;
    let server = app.serve().await;
    let script = root.join("tests/browser/graphiql.mjs");
    let base = format!("http://{}", server.address);
    let token = ann.token.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .arg(base)
            .env("ACCESS_TOKEN", token)
            .output()
    })
    .await
    .unwrap()
    .expect("node runs (install it with scripts/browser-deps.sh)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "GraphiQL run failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("Visible in GraphiQL"),
        "the result pane shows the post: {stdout}"
    );
}
