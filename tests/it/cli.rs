//! The subcommands, run as the real binary: schema, healthcheck and seed.

use std::process::Output;

use axum::http::{Method, StatusCode};
use blog_gateway::db::models::{Category, Role};
use blog_gateway::db::schema::{posts, users};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use uuid::Uuid;

use crate::common::{PASSWORD, ServerProcess, TestApp, TestDb, binary, free_port, test_config};

/// The binary, without any configuration variable of the environment the tests run in.
fn describe(output: &Output) -> String {
    format!(
        "status {}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn schema_graphql_matches_the_generated_sdl() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let committed = std::fs::read_to_string(&path).expect("schema.graphql exists at the repository root");
    let generated = blog_gateway::cli::schema_sdl();
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        panic!(
            "schema.graphql differs from the schema in the code (first at line {}); \
             run `cargo run -- schema > schema.graphql` and review the diff",
            line + 1
        );
    }
}

fn healthcheck(args: &[&str]) -> Output {
    binary()
        .arg("healthcheck")
        .args(args)
        .output()
        .expect("the binary runs")
}

#[tokio::test]
async fn healthcheck_exits_zero_while_the_server_is_healthy_and_non_zero_once_it_stops() {
    let db = TestDb::new().await;
    let mut server = ServerProcess::start(&db.url, &[]);
    let url = format!("http://127.0.0.1:{}", server.port);
    let output = healthcheck(&["--url", &url]);
    assert!(output.status.success(), "{}", describe(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "healthy: OK");
    // Without --url the probe goes to 127.0.0.1 on --port (PORT in a container).
    let output = healthcheck(&["--port", &server.port.to_string()]);
    assert!(output.status.success(), "{}", describe(&output));
    server.stop();
    let output = healthcheck(&["--url", &url]);
    assert!(!output.status.success(), "{}", describe(&output));
}

#[test]
fn healthcheck_exits_non_zero_when_nothing_listens() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let output = healthcheck(&["--url", &url]);
    assert!(!output.status.success(), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot connect"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

/// The small sizes of the seed tests: 60 posts, of which 54 are published.
const SIZES: [&str; 8] = [
    "--users",
    "20",
    "--posts",
    "60",
    "--comments",
    "200",
    "--likes",
    "300",
];

fn seed(database_url: &str, extra: &[&str]) -> Output {
    binary()
        .arg("seed")
        .args(SIZES)
        .args(["--database-url", database_url])
        .args(extra)
        .output()
        .expect("the binary runs")
}

fn seed_ok(database_url: &str, extra: &[&str]) {
    let output = seed(database_url, extra);
    assert!(output.status.success(), "{}", describe(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).starts_with("seeded "),
        "{}",
        describe(&output)
    );
}

#[derive(QueryableByName)]
struct Digest {
    #[diesel(sql_type = Nullable<Text>)]
    digest: Option<String>,
}

/// A digest of every seeded row, in id order. Password hashes are left out: argon2 salts each
/// hash at random, so they differ between runs by design.
async fn fingerprint(conn: &mut AsyncPgConnection) -> Vec<Option<String>> {
    let queries = [
        "SELECT md5(string_agg(u::text, ',' ORDER BY u.id)) AS digest FROM \
         (SELECT id, username, email, role, first_name, last_name, avatar, bio, is_active, last_login, \
          created_at, updated_at FROM users) u",
        "SELECT md5(string_agg(p::text, ',' ORDER BY p.id)) AS digest FROM posts p",
        "SELECT md5(string_agg(c::text, ',' ORDER BY c.id)) AS digest FROM comments c",
        "SELECT md5(string_agg(l::text, ',' ORDER BY l.post_id, l.user_id)) AS digest FROM post_likes l",
    ];
    let mut digests = Vec::new();
    for query in queries {
        let row: Digest = diesel::sql_query(query)
            .get_result(conn)
            .await
            .expect("digest query");
        digests.push(row.digest);
    }
    digests
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Counts {
    #[diesel(sql_type = BigInt)]
    users: i64,
    #[diesel(sql_type = BigInt)]
    posts: i64,
    #[diesel(sql_type = BigInt)]
    comments: i64,
    #[diesel(sql_type = BigInt)]
    likes: i64,
}

async fn counts(conn: &mut AsyncPgConnection) -> Counts {
    diesel::sql_query(
        "SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM posts) AS posts, \
         (SELECT count(*) FROM comments) AS comments, (SELECT count(*) FROM post_likes) AS likes",
    )
    .get_result(conn)
    .await
    .expect("count query")
}

const SEEDED: Counts = Counts {
    users: 20,
    posts: 60,
    comments: 200,
    likes: 300,
};

#[tokio::test]
async fn seed_creates_a_missing_database_and_repeats_the_same_rows() {
    let name = format!("bg_s_{}", Uuid::new_v4().simple());
    // Not created here: the seed creates and migrates it; dropping the handle removes it.
    let db = TestDb::named(&name);
    seed_ok(&db.url, &[]);
    let mut conn = db.connect().await;
    assert_eq!(counts(&mut conn).await, SEEDED);
    let first = fingerprint(&mut conn).await;
    drop(conn);

    seed_ok(&db.url, &["--reset"]);
    let mut conn = db.connect().await;
    assert_eq!(counts(&mut conn).await, SEEDED);
    assert_eq!(
        fingerprint(&mut conn).await,
        first,
        "--reset reseeds the same rows"
    );

    let other = TestDb::new().await;
    seed_ok(&other.url, &[]);
    let mut other_conn = other.connect().await;
    assert_eq!(
        fingerprint(&mut other_conn).await,
        first,
        "another database gets the same rows"
    );
}

#[tokio::test]
async fn seed_refuses_a_non_empty_database_without_reset() {
    let db = TestDb::new().await;
    seed_ok(&db.url, &[]);
    let mut conn = db.connect().await;
    let before = fingerprint(&mut conn).await;
    let hashes_before: Vec<String> = users::table
        .order(users::id)
        .select(users::password_hash)
        .load(&mut conn)
        .await
        .unwrap();

    let output = seed(&db.url, &[]);
    assert!(!output.status.success(), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--reset"), "says how to proceed: {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");

    assert_eq!(counts(&mut conn).await, SEEDED);
    assert_eq!(fingerprint(&mut conn).await, before, "no row changed");
    let hashes_after: Vec<String> = users::table
        .order(users::id)
        .select(users::password_hash)
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(hashes_after, hashes_before, "no password was rehashed");
}

#[tokio::test]
async fn seeded_counters_match_the_rows() {
    let db = TestDb::new().await;
    seed_ok(&db.url, &[]);
    let mut conn = db.connect().await;
    let mismatched: i64 = diesel::sql_query(
        "SELECT count(*) AS n FROM posts p \
         WHERE p.likes_count <> (SELECT count(*) FROM post_likes l WHERE l.post_id = p.id) \
            OR p.comments_count <> (SELECT count(*) FROM comments c WHERE c.post_id = p.id)",
    )
    .get_result::<Count>(&mut conn)
    .await
    .unwrap()
    .n;
    assert_eq!(mismatched, 0, "every post's counters equal its rows");
    let (likes, comments): (Option<i64>, Option<i64>) = posts::table
        .select((
            diesel::dsl::sum(posts::likes_count),
            diesel::dsl::sum(posts::comments_count),
        ))
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!((likes, comments), (Some(300), Some(200)));

    let drafts: i64 = posts::table
        .filter(posts::is_published.eq(false))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(drafts, 6, "every tenth post is a draft");
    let reacted_drafts: i64 = posts::table
        .filter(posts::is_published.eq(false))
        .filter(posts::likes_count.gt(0).or(posts::comments_count.gt(0)))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(reacted_drafts, 0, "drafts get no comments or likes");
    let categories: Vec<Category> = posts::table
        .select(posts::category)
        .distinct()
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(categories.len(), 5, "posts spread over every category");
    let tags: Vec<Vec<String>> = posts::table.select(posts::tags).load(&mut conn).await.unwrap();
    assert!(tags.iter().all(|t| t.len() <= 5), "{tags:?}");
    assert!(tags.iter().any(|t| t.len() >= 2), "{tags:?}");
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[tokio::test]
async fn seeded_demo_accounts_have_their_roles_and_log_in() {
    let db = TestDb::new().await;
    seed_ok(&db.url, &[]);
    let mut conn = db.connect().await;
    let accounts = [
        ("admin@example.com", Role::Admin, "admin"),
        ("moderator@example.com", Role::Moderator, "moderator"),
        ("user@example.com", Role::User, "user"),
    ];
    for (email, role, _) in accounts {
        let stored: Role = users::table
            .filter(users::email.eq(email))
            .select(users::role)
            .get_result(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{email} exists: {e}"));
        assert_eq!(stored, role, "{email}");
    }
    for role in [Role::Admin, Role::Moderator] {
        let holders: i64 = users::table
            .filter(users::role.eq(role))
            .count()
            .get_result(&mut conn)
            .await
            .unwrap();
        assert_eq!(holders, 1, "exactly one {role:?}");
    }
    let someone: String = users::table
        .filter(users::email.ne_all(accounts.map(|(email, _, _)| email)))
        .order(users::id)
        .select(users::email)
        .first(&mut conn)
        .await
        .unwrap();
    drop(conn);

    let url = db.url.clone();
    let app = TestApp::with_config(db, test_config(&url, &[])).await;
    let logins = accounts
        .map(|(email, _, role)| (email.to_owned(), role))
        .into_iter()
        .chain([(someone, "user")]);
    for (email, role) in logins {
        let response = app
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({ "email": email, "password": PASSWORD })),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "{email}: {}", response.text);
        assert_eq!(response.body["user"]["role"], role, "{email}");
        assert!(response.body["tokens"]["accessToken"].is_string());
    }
}
