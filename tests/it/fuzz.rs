//! Schemathesis fuzzes every operation of `GET /api/openapi.json` on a live gateway with data
//! (an admin with a token, a second user, posts, comments and a like), sending the admin's
//! bearer token so protected routes run too. Checks: all of schemathesis's (`--checks all`): no
//! 5xx, every answer's status, content type, headers and body as the document says, schema-valid
//! requests accepted and schema-violating ones refused, a missing token refused, deleted
//! resources gone, ... with the deliberate exceptions of [`EXCLUDED_CHECKS`]; a document that
//! schemathesis cannot fully use (unresolvable `$ref`s, ...) fails the run too. Needs the
//! virtualenv of `scripts/fuzz-deps.sh` (`FUZZ_VENV`, default
//! `$HOME/.cache/blog-gateway/fuzz-venv`); it fails when it is missing.
//! `FUZZ_SEED` replaces the fixed seed and `FUZZ_MAX_EXAMPLES` the examples per operation.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use blog_gateway::db::models::Role;
use serde_json::json;

use crate::common::{PASSWORD, TestApp, tool_ready};

/// Every check schemathesis has (`--checks all`, which takes in the checks of [`HOOKS`] too), but
/// those of [`EXCLUDED_CHECKS`].
const CHECKS: &str = "all";
/// Deliberate exceptions to `--checks all`, each with its reason:
/// - `unsupported_method` (ST204) wants 405 for a method the document does not declare on a
///   path; the legacy service answered every unknown route and method with 404 `{success: false,
///   message: "Route not found"}`, and legacy clients keep that answer (`rest::route_not_found`).
/// - `positive_data_acceptance` (ST202) and `negative_data_rejection` (ST201) run through the
///   wrappers of [`HOOKS`] instead, which allow exactly two legacy rules that JSON Schema cannot
///   state (a taken username or email is a 400; tags count after the server drops blank and
///   repeated ones) and fail on everything else as the built-in checks do.
const EXCLUDED_CHECKS: &str = "unsupported_method,positive_data_acceptance,negative_data_rejection";
/// The schemathesis hooks file (in the repository), with the wrapping checks.
const HOOKS: &str = "tests/fuzz/hooks.py";
/// Warnings that fail the run: each means part of the document could not be checked (a `$ref`
/// to nothing, a response type it cannot read), or the run did not test what it should (the
/// token was refused, the base URL is wrong, a documented method answers 405).
const FAIL_ON_WARNINGS: &[&str] = &[
    "unresolvable_reference",
    "missing_deserializer",
    "missing_auth",
    "base_url_mismatch",
    "method_not_allowed",
];
/// A fixed seed, so that CI runs the same cases every time.
const DEFAULT_SEED: &str = "20240101";
const DEFAULT_MAX_EXAMPLES: &str = "50";
/// The whole run is killed (and the test fails) past this.
const HARD_TIMEOUT: Duration = Duration::from_secs(300);

fn schemathesis() -> Option<PathBuf> {
    let venv = std::env::var_os("FUZZ_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").expect("HOME is set (or set FUZZ_VENV)");
            PathBuf::from(home).join(".cache/blog-gateway/fuzz-venv")
        });
    let bin = venv.join("bin/schemathesis");
    tool_ready(
        "fuzz::rest_api_conforms_to_its_openapi_document_under_fuzzing",
        bin.is_file(),
        &format!("{} is missing: run scripts/fuzz-deps.sh", bin.display()),
    )
    .then_some(bin)
}

fn toml_list(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

/// The run's configuration: the hooks, the warnings that fail it, and the ids of real rows, used
/// for half of the generated path ids (the other half stays random, so unknown and malformed ids
/// are fuzzed too). `DELETE /api/posts/{id}` gets random ids only: with real ones it would delete
/// the posts every later operation needs (the stateful phase deletes posts it creates). Live
/// refresh tokens go to half of the refresh bodies, so that a refresh succeeds whatever the seed
/// (each works once; a random one is always refused).
fn config_file(
    post_ids: &[&str],
    comment_ids: &[&str],
    user_ids: &[&str],
    refresh_tokens: &[&str],
) -> String {
    let hooks = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(HOOKS);
    format!(
        r#"hooks = {hooks:?}

[warnings]
fail-on = {warnings}

[dictionaries.post_ids]
values = {posts}

[dictionaries.comment_ids]
values = {comments}

[dictionaries.user_ids]
values = {users}

[dictionaries.refresh_tokens]
values = {tokens}

[[operations]]
include-path-regex = "^/api/auth/refresh"
parameters = {{ "body.refreshToken" = {{ dictionary = "refresh_tokens", probability = 0.5 }} }}

[[operations]]
include-path-regex = "^/api/posts/\\{{id\\}}/"
parameters = {{ "path.id" = {{ dictionary = "post_ids", probability = 0.5 }}, "path.comment_id" = {{ dictionary = "comment_ids", probability = 0.5 }} }}

[[operations]]
include-path = "/api/posts/{{id}}"
include-method = ["GET", "PUT"]
parameters = {{ "path.id" = {{ dictionary = "post_ids", probability = 0.5 }} }}

[[operations]]
include-path = "/api/users/{{id}}"
parameters = {{ "path.id" = {{ dictionary = "user_ids", probability = 0.5 }} }}
"#,
        warnings = toml_list(FAIL_ON_WARNINGS),
        posts = toml_list(post_ids),
        comments = toml_list(comment_ids),
        users = toml_list(user_ids),
        tokens = toml_list(refresh_tokens),
    )
}

/// Runs `command` to completion or kills it after `limit`; returns (exit success, output,
/// whether it was killed).
fn run_bounded(mut command: Command, limit: Duration) -> (bool, String, bool) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("schemathesis starts");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let (status, killed) = loop {
        if let Some(status) = child.try_wait().expect("wait for schemathesis") {
            break (status, false);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            break (child.wait().expect("wait for schemathesis"), true);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = format!("{}\n{}", out.join().unwrap(), err.join().unwrap());
    (status.success() && !killed, output, killed)
}

#[tokio::test]
async fn rest_api_conforms_to_its_openapi_document_under_fuzzing() {
    let Some(bin) = schemathesis() else {
        return;
    };
    let app = TestApp::new().await;
    let admin = app.user("fuzzadmin", Role::Admin).await;
    let bob = app.user("fuzzbob", Role::User).await;
    let published = app.post(&admin, "Fuzzed published post", true).await;
    let draft = app.post(&admin, "Fuzzed draft post", false).await;
    let bobs = app.post(&bob, "Bob's fuzzed post", true).await;
    let mut comments = Vec::new();
    for (post, token) in [
        (&published, &bob.token),
        (&bobs, &admin.token),
        (&bobs, &bob.token),
    ] {
        let response = app
            .call(
                Method::POST,
                &format!("/api/posts/{post}/comments"),
                Some(token),
                Some(json!({ "content": "A comment for the fuzzer." })),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        comments.push(response.body["data"]["id"].as_str().unwrap().to_owned());
    }
    let like = app
        .call(
            Method::POST,
            &format!("/api/posts/{bobs}/like"),
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(like.status, StatusCode::OK, "{}", like.text);

    let mut refresh_tokens = Vec::new();
    for _ in 0..4 {
        let login = app
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({ "email": format!("{}@example.com", bob.username), "password": PASSWORD })),
            )
            .await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.text);
        refresh_tokens.push(login.body["tokens"]["refreshToken"].as_str().unwrap().to_owned());
    }

    let server = app.serve().await;
    let base = format!("http://{}", server.address);
    let seed = std::env::var("FUZZ_SEED").unwrap_or_else(|_| DEFAULT_SEED.to_owned());
    let max_examples = std::env::var("FUZZ_MAX_EXAMPLES").unwrap_or_else(|_| DEFAULT_MAX_EXAMPLES.to_owned());
    // A working folder outside the repository, for the configuration and nothing else.
    let workdir = std::env::temp_dir().join(format!("bg-fuzz-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&workdir).unwrap();
    let config = workdir.join("schemathesis.toml");
    let comment_ids: Vec<&str> = comments.iter().map(String::as_str).collect();
    let (admin_id, bob_id) = (admin.id.to_string(), bob.id.to_string());
    std::fs::write(
        &config,
        config_file(
            &[&published, &draft, &bobs],
            &comment_ids,
            &[&admin_id, &bob_id],
            &refresh_tokens.iter().map(String::as_str).collect::<Vec<_>>(),
        ),
    )
    .unwrap();
    let mut command = Command::new(bin);
    command
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(format!("{base}/api/openapi.json"))
        .args(["--url", &base])
        .args(["--checks", CHECKS])
        .args(["--exclude-checks", EXCLUDED_CHECKS])
        .args(["--max-examples", &max_examples])
        .args(["--seed", &seed])
        .args(["--generation-database", "none"])
        .args(["--request-timeout", "10"])
        .arg("--header")
        .arg(format!("Authorization: Bearer {}", admin.token))
        .arg("--no-color")
        .current_dir(&workdir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "120");
    let started = Instant::now();
    let (success, output, killed) = tokio::task::spawn_blocking(move || run_bounded(command, HARD_TIMEOUT))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let _ = std::fs::remove_dir_all(&workdir);
    assert!(
        !killed,
        "schemathesis (seed {seed}) ran past {HARD_TIMEOUT:?} and was stopped:\n{output}"
    );
    assert!(
        success,
        "schemathesis (seed {seed}, {max_examples} examples per operation) failed in {elapsed:?}:\n{output}"
    );
    // Shown with --nocapture.
    println!("schemathesis, seed {seed}, {elapsed:?}:\n{output}");
}
