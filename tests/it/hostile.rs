//! Hostile documents through the real router (issue 18): each failed before its fix.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use blog_gateway::db::models::Role;
use serde_json::json;

use crate::common::{PASSWORD, TestApp, error_code};

/// Item 2: a variable that is not sent is costed at its operation's default, the value
/// execution uses (it was costed at the schema's 20: 8,841 points for 571,787 objects).
#[tokio::test]
async fn a_variable_default_cannot_dodge_the_cost_limit() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let post = app.post(&ann, "A published post", true).await;
    let document = "query D($n: Int = 100, $p: ID!) { post(id: $p) { comments(first: $n) { nodes { post { \
                    comments(first: $n) { nodes { post { comments(first: $n) { nodes { id } } } } } } } } } }";
    let response = app.graphql(document, json!({ "p": post }), None).await;
    assert!(response.body.get("data").is_none(), "{}", response.text);
    assert_eq!(error_code(&response), "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(
        response.body["errors"][0]["extensions"]["limit"], "cost",
        "{}",
        response.text
    );
    assert_eq!(
        response.body["errors"][0]["extensions"]["value"],
        json!(1 + 100 * (2 + 100 * (2 + 100))),
        "{}",
        response.text
    );
}

/// Found while costing `nodes(ids:)`: a connection's items selected through a fragment on the
/// connection were counted once, not once per item: this document cost a few points instead of
/// 100 * (2 + 100 * 2), and ran.
#[tokio::test]
async fn a_fragment_on_a_connection_cannot_dodge_the_cost_limit() {
    let app = TestApp::new().await;
    let document = "{ posts(first: 100) { ... on PostConnection { nodes { author { ...Posts } } } } } \
                    fragment Posts on User { posts(first: 100) { ...Items } } \
                    fragment Items on PostConnection { nodes { id author { id } } }";
    let response = app.graphql(document, json!({}), None).await;
    assert!(response.body.get("data").is_none(), "{}", response.text);
    assert_eq!(error_code(&response), "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(
        response.body["errors"][0]["extensions"]["limit"], "cost",
        "{}",
        response.text
    );
    assert_eq!(
        response.body["errors"][0]["extensions"]["value"],
        json!(100 * (2 + 100 * 2)),
        "{}",
        response.text
    );
}

/// Item 4: fragments that spread the next one twice, 24 levels deep: 954 bytes that validation
/// expanded into 2^23 fields (4.7 s, 3.36 GB each). Refused before validation, at once.
#[tokio::test]
async fn a_fragment_bomb_is_refused_before_validation_expands_it() {
    let app = TestApp::new().await;
    let mut document = String::from("query Q { ...F0 }");
    for level in 0..23 {
        document.push_str(&format!(
            " fragment F{level} on Query {{ ...F{n} ...F{n} }}",
            n = level + 1
        ));
    }
    document.push_str(" fragment F23 on Query { __typename }");
    let started = Instant::now();
    let response = app.graphql(&document, json!({}), None).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(response.body.get("data").is_none(), "{}", response.text);
    assert_eq!(
        response.body["errors"][0]["extensions"]["limit"], "fields",
        "{}",
        response.text
    );
    assert_eq!(error_code(&response), "GRAPHQL_VALIDATION_FAILED");
}

/// Item 9: the response cache keyed on the document with its whitespace collapsed, inside
/// string literals too, so `"a  b"` filled the entry that `"a b"` then read.
#[tokio::test]
async fn whitespace_inside_a_string_literal_is_a_different_cache_entry() {
    let app = TestApp::with_flags(&["--cache-enabled", "true"]).await;
    let registered = app
        .call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(json!({ "username": "a b", "email": "ab@example.com", "password": PASSWORD })),
        )
        .await;
    assert_eq!(registered.status, StatusCode::CREATED, "{}", registered.text);
    let two_spaces = app
        .graphql(r#"{ user(username: "a  b") { username } }"#, json!({}), None)
        .await;
    assert_eq!(two_spaces.status, StatusCode::OK);
    assert_eq!(
        two_spaces.body["data"]["user"],
        json!(null),
        "{}",
        two_spaces.text
    );
    let one_space = app
        .graphql(r#"{ user(username: "a b") { username } }"#, json!({}), None)
        .await;
    assert_eq!(one_space.headers["x-cache"], "MISS", "a separate entry");
    assert_eq!(
        one_space.body["data"]["user"]["username"], "a b",
        "{}",
        one_space.text
    );
}

/// Item 7: a subscriber to a published post kept receiving its comments (with the post's title
/// and content) after the author unpublished it.
#[tokio::test]
async fn comments_of_a_post_unpublished_after_subscribing_stop_reaching_others() {
    use crate::subscriptions::{COMMENTS, connect, next_json, subscribe};
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let post = app.post(&ann, "Published, then not", true).await;
    let server = app.serve().await;
    let mut stranger = connect(server.address, json!({})).await.unwrap();
    subscribe(&mut stranger, "c", COMMENTS, json!({ "p": post })).await;
    app.comment(&ann, &post, "while published").await;
    let event = next_json(&mut stranger).await.expect("the first comment arrives");
    assert_eq!(
        event["payload"]["data"]["commentAdded"]["content"],
        "while published"
    );
    app.graphql_ok(
        "mutation($id: ID!) { updatePost(id: $id, input: { isPublished: false }) { id } }",
        json!({ "id": post }),
        Some(&ann.token),
    )
    .await;
    app.comment(&ann, &post, "on a draft now").await;
    assert_eq!(
        next_json(&mut stranger).await,
        None,
        "nothing about the draft reaches a stranger"
    );
}

/// Item 5: any `{query, persistedQuery.sha256Hash}` was stored before the document was even
/// parsed (500 anonymous 1 MB documents: 626 MiB in the gateway for good, 500 MB in Redis for
/// 7 days). Only a document that ran is stored, and only up to 32 KiB.
#[tokio::test]
async fn only_small_documents_that_ran_are_persisted() {
    use blog_gateway::digest::sha256_hex;
    let app = TestApp::new().await;
    let send = |query: &str, with_document: bool| {
        let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(query) } });
        let body = if with_document {
            json!({ "query": query, "extensions": extensions })
        } else {
            json!({ "extensions": extensions })
        };
        app.call(Method::POST, "/graphql", None, Some(body))
    };
    let junk = "{ this is not graphql";
    let refused = send(junk, true).await;
    assert!(refused.body.get("data").is_none(), "{}", refused.text);
    let missing = send(junk, false).await;
    assert_eq!(
        error_code(&missing),
        "PERSISTED_QUERY_NOT_FOUND",
        "{}",
        missing.text
    );

    let large = format!("{{ __typename }} # {}", "x".repeat(40_000));
    let ran = send(&large, true).await;
    assert_eq!(ran.body["data"]["__typename"], "Query", "{}", ran.text);
    let missing = send(&large, false).await;
    assert_eq!(
        error_code(&missing),
        "PERSISTED_QUERY_NOT_FOUND",
        "{}",
        missing.text
    );

    let small = "{ __typename }";
    send(small, true).await;
    let found = send(small, false).await;
    assert_eq!(found.body["data"]["__typename"], "Query", "{}", found.text);
}

/// Item 6: post content had no cap (two 9 MB posts made `GET /api/posts` a 500 for everyone, and
/// 99 aliases of a 5 MB post's content built 495 MB). Content is capped at 100,000 characters on
/// both doors, and a GraphQL answer has a ceiling, counted while it is built.
#[tokio::test]
async fn post_content_is_capped_and_an_answer_has_a_ceiling() {
    let app = TestApp::with_flags(&["--graphql-max-response-bytes", "50000"]).await;
    let ann = app.user("ann", Role::User).await;
    let too_long = "word ".repeat(20_001);
    let rest = app
        .call(
            Method::POST,
            "/api/posts",
            Some(&ann.token),
            Some(json!({ "title": "A long post", "content": too_long, "category": "technology" })),
        )
        .await;
    assert_eq!(
        rest.status,
        StatusCode::BAD_REQUEST,
        "{}",
        &rest.text[..300.min(rest.text.len())]
    );
    assert!(
        rest.text.len() < 2_000,
        "the refusal does not echo the content back"
    );
    assert!(rest.text.contains("at most 100000 characters"), "{}", rest.text);
    let graphql = app
        .graphql(
            "mutation($c: String!) { createPost(input: { title: \"A long post\", content: $c, category: TECHNOLOGY }) { id } }",
            json!({ "c": too_long }),
            Some(&ann.token),
        )
        .await;
    assert_eq!(error_code(&graphql), "BAD_USER_INPUT");
    assert!(graphql.text.len() < 2_000);

    // 30,000 bytes of content, asked for twice: the second passes the 50,000-byte ceiling.
    let content = "word ".repeat(6_000);
    let post = app
        .graphql_ok(
            "mutation($c: String!) { createPost(input: { title: \"A large post\", content: $c, category: TECHNOLOGY, isPublished: true }) { id } }",
            json!({ "c": content }),
            Some(&ann.token),
        )
        .await["createPost"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = app
        .graphql(
            "query($id: ID!) { a: post(id: $id) { content } b: post(id: $id) { content } }",
            json!({ "id": post }),
            None,
        )
        .await;
    assert_eq!(
        error_code(&answer),
        "RESPONSE_TOO_LARGE",
        "{}",
        &answer.text[..200]
    );
    assert!(answer.text.len() < 40_000, "the answer stops at the ceiling");
    let list = app.get("/api/posts", None).await;
    assert_eq!(list.status, StatusCode::OK);
}

/// Item 10: no cap on subscriptions per socket or per client (8 sockets x 2,500 subscriptions
/// added 180 MiB), and every subscriber read the event's row itself (one publish: 12,000 pool
/// timeouts). Capped per socket and per client, and one read per event.
#[tokio::test]
async fn subscriptions_are_capped_per_socket_and_client_and_an_event_is_read_once() {
    use crate::subscriptions::{connect, next_json, receive_next, subscribe};
    // The comment's own fields: what the fan-out reads once (a nested author or post is read
    // by each subscriber's loaders).
    const FLAT: &str = "subscription($p: ID!) { commentAdded(postId: $p) { id content } }";
    use crate::ws_protocol::send;
    let app = TestApp::with_flags(&[
        "--graphql-max-subscriptions-per-socket",
        "3",
        "--graphql-max-subscriptions-per-client",
        "5",
    ])
    .await;
    let ann = app.user("ann", Role::User).await;
    let post = app.post(&ann, "A popular post", true).await;
    let server = app.serve().await;

    // Per socket: the fourth subscription of a socket is refused before it starts.
    let mut first = connect(server.address, json!({})).await.unwrap();
    for id in ["a", "b", "c"] {
        subscribe(&mut first, id, FLAT, json!({ "p": post })).await;
    }
    subscribe(&mut first, "d", FLAT, json!({ "p": post })).await;
    let refused = next_json(&mut first).await.expect("a refusal");
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "d");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"], "RATE_LIMITED",
        "{refused}"
    );

    // Per client (this IP, across sockets): 3 + 2 open, the sixth is refused.
    let mut second = connect(server.address, json!({})).await.unwrap();
    for id in ["e", "f"] {
        subscribe(&mut second, id, FLAT, json!({ "p": post })).await;
    }
    subscribe(&mut second, "g", FLAT, json!({ "p": post })).await;
    let refused = next_json(&mut second).await.expect("a refusal");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{refused}"
    );

    // Completing one frees its place.
    send(&mut first, json!({ "id": "a", "type": "complete" })).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    subscribe(&mut second, "h", FLAT, json!({ "p": post })).await;

    // One comment, five subscribers (b, c, e, f, h): each gets it, from one read of its row.
    app.state.statements().reset();
    app.comment(&ann, &post, "Seen by everyone").await;
    let mut delivered = 0;
    for (socket, expected) in [(&mut first, 2), (&mut second, 3)] {
        delivered += receive_next(socket, expected, |event| {
            assert_eq!(
                event["payload"]["data"]["commentAdded"]["content"], "Seen by everyone",
                "{event}"
            );
        })
        .await;
    }
    assert_eq!(delivered, 5, "every subscriber got the comment");
    let with_five = app.state.statements().snapshot().queries;
    // The same comment path with a single subscriber reads the same number of statements.
    let mut alone = connect(
        server.address,
        json!({ "Authorization": format!("Bearer {}", ann.token) }),
    )
    .await
    .unwrap();
    drop(first);
    drop(second);
    tokio::time::sleep(Duration::from_millis(300)).await;
    subscribe(&mut alone, "z", FLAT, json!({ "p": post })).await;
    app.state.statements().reset();
    app.comment(&ann, &post, "Seen by one").await;
    assert!(next_json(&mut alone).await.is_some());
    let with_one = app.state.statements().snapshot().queries;
    assert_eq!(
        with_five, with_one,
        "one read per event, however many subscribers"
    );
}

/// The bench's 30,000 subscribers found it: an event's author was read by each subscriber's own
/// loader (one read per subscriber of every new author; a burst of them timed out on the pool).
/// The event's one read now brings the author too.
#[tokio::test]
async fn an_events_author_is_read_once_however_many_subscribers() {
    use crate::subscriptions::{connect, receive_next, subscribe};
    const WITH_AUTHOR: &str =
        "subscription($p: ID!) { commentAdded(postId: $p) { id content author { id username } } }";
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let post = app.post(&ann, "A post everyone watches", true).await;
    let server = app.serve().await;

    // Statements of one comment by a new author, delivered to `subscribers` subscriptions on two
    // sockets (each subscription's loaders start empty).
    async fn statements_for(
        app: &TestApp,
        address: std::net::SocketAddr,
        post: &str,
        author: &str,
        subscribers: usize,
    ) -> u64 {
        let mut sockets = vec![
            connect(address, json!({})).await.unwrap(),
            connect(address, json!({})).await.unwrap(),
        ];
        for n in 0..subscribers {
            let socket = &mut sockets[n % 2];
            subscribe(socket, &format!("s{n}"), WITH_AUTHOR, json!({ "p": post })).await;
        }
        let writer = app.user(author, Role::User).await;
        app.state.statements().reset();
        app.comment(&writer, post, &format!("Written by {author}")).await;
        let mut delivered = 0;
        for (i, socket) in sockets.iter_mut().enumerate() {
            let expected = subscribers / 2 + usize::from(i < subscribers % 2);
            delivered += receive_next(socket, expected, |event| {
                assert_eq!(
                    event["payload"]["data"]["commentAdded"]["author"]["username"], author,
                    "{event}"
                );
            })
            .await;
        }
        assert_eq!(
            delivered, subscribers,
            "every subscriber got the comment with its author"
        );
        let statements = app.state.statements().snapshot().queries;
        drop(sockets);
        tokio::time::sleep(Duration::from_millis(300)).await;
        statements
    }
    let with_five = statements_for(&app, server.address, &post, "bea", 5).await;
    let with_one = statements_for(&app, server.address, &post, "cal", 1).await;
    assert_eq!(
        with_five, with_one,
        "one read per event, its author included, however many subscribers"
    );
}

/// Item 11: a tampered cursor with a NUL byte or a time Postgres cannot hold answered INTERNAL.
#[tokio::test]
async fn tampered_cursors_are_bad_input_not_internal() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    app.post(&ann, "A published post", true).await;
    let id = uuid::Uuid::now_v7();
    for (sort, key) in [
        ("TITLE_ASC", format!("title_asc|{id}|sA\0B")),
        ("NEWEST", format!("newest|{id}|t{}", i64::MAX)),
        ("NEWEST", format!("newest|{id}|t-{}", i64::MAX / 2)),
    ] {
        let cursor = URL_SAFE_NO_PAD.encode(key);
        let answer = app
            .graphql(
                &format!("{{ posts(sort: {sort}, after: \"{cursor}\") {{ nodes {{ id }} }} }}"),
                json!({}),
                None,
            )
            .await;
        assert_eq!(error_code(&answer), "BAD_USER_INPUT", "{}", answer.text);
    }
}

/// Item 11: unknown HTTP methods became metric labels (3,000 requests grew /metrics from 121 KB
/// to 14 MB).
#[tokio::test]
async fn made_up_methods_do_not_grow_the_metrics() {
    let app = TestApp::new().await;
    for i in 0..50 {
        let method = Method::from_bytes(format!("MADEUP{i}").as_bytes()).unwrap();
        app.call(method, "/api/posts", None, None).await;
    }
    let metrics = app.get("/metrics", None).await;
    assert!(!metrics.text.contains("MADEUP"), "made-up methods are not labels");
    assert!(metrics.text.contains("method=\"other\""), "they count as other");
}

/// Item 11: login, refresh and `/api/users/me` answers (tokens, the caller's own account) lacked
/// `Cache-Control: no-store`.
#[tokio::test]
async fn answers_with_tokens_or_private_data_are_never_stored() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let login = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({ "email": "ann@example.com", "password": PASSWORD })),
        )
        .await;
    let refresh = app
        .call(
            Method::POST,
            "/api/auth/refresh",
            None,
            Some(json!({ "refreshToken": ann.refresh_token })),
        )
        .await;
    let me = app.get("/api/users/me", Some(&ann.token)).await;
    let graphql_login = app
        .graphql(
            &format!(r#"mutation {{ login(email: "ann@example.com", password: "{PASSWORD}") {{ tokens {{ accessToken }} }} }}"#),
            json!({}),
            None,
        )
        .await;
    let graphql_me = app.graphql("{ me { email } }", json!({}), Some(&ann.token)).await;
    for (name, response) in [
        ("login", &login),
        ("refresh", &refresh),
        ("me", &me),
        ("GraphQL login", &graphql_login),
        ("GraphQL me", &graphql_me),
    ] {
        assert_eq!(
            response.headers["cache-control"], "no-store",
            "{name}: {}",
            response.text
        );
    }
    let public = app.get("/api/posts", None).await;
    assert_ne!(
        public.headers.get("cache-control").map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
}

/// Registers `username` through REST and returns the answer.
async fn register(app: &TestApp, username: &str, email: &str) -> crate::common::TestResponse {
    app.call(
        Method::POST,
        "/api/auth/register",
        None,
        Some(json!({ "username": username, "email": email, "password": PASSWORD })),
    )
    .await
}

/// The `msg` of the one field error of a 400 validation answer.
fn field_message(response: &crate::common::TestResponse) -> String {
    assert_eq!(response.status, StatusCode::BAD_REQUEST, "{}", response.text);
    assert_eq!(response.body["message"], "Validation failed", "{}", response.text);
    assert_eq!(
        response.body["errors"][0]["path"], "username",
        "{}",
        response.text
    );
    response.body["errors"][0]["msg"].as_str().unwrap().to_owned()
}

/// Item 11: look-alike usernames were accepted: `Admin` beside `admin`, a zero-width or
/// right-to-left mark inside a name, a Cyrillic letter inside a Latin name. A new name that
/// equals an existing one after NFKC and case folding is taken; invisible and mixed-script names
/// are refused; single-script names of any script stay welcome.
#[tokio::test]
async fn look_alike_usernames_are_refused() {
    let app = TestApp::new().await;
    let alice = app.user("alice", Role::User).await;
    for (i, twin) in ["Alice", "ALICE", "\u{FF41}lice", "a\u{2113}ice", "alice\u{FE0F}"]
        .into_iter()
        .enumerate()
    {
        let response = register(&app, twin, &format!("twin{i}@example.com")).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{twin:?}: {}",
            response.text
        );
        assert!(
            response
                .text
                .contains("User already exists with this email or username")
                || field_message(&response).contains("invisible"),
            "{twin:?}: {}",
            response.text
        );
    }
    let graphql = app
        .graphql(
            "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }",
            json!({ "i": { "username": "ali\u{200B}ce", "email": "g@example.com", "password": PASSWORD } }),
            None,
        )
        .await;
    assert_eq!(error_code(&graphql), "BAD_USER_INPUT", "{}", graphql.text);
    let graphql = app
        .graphql(
            "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }",
            json!({ "i": { "username": "Alice", "email": "g@example.com", "password": PASSWORD } }),
            None,
        )
        .await;
    assert_eq!(error_code(&graphql), "CONFLICT", "{}", graphql.text);

    for (i, hidden) in [
        "ali\u{200B}ce",
        "bob\u{202E}cipher",
        "\u{3164}carl",
        "dan\u{00AD}ny",
        "eve\u{2060}x",
        "tab\tname",
    ]
    .into_iter()
    .enumerate()
    {
        let response = register(&app, hidden, &format!("hidden{i}@example.com")).await;
        assert_eq!(
            field_message(&response),
            "Username cannot contain invisible or control characters",
            "{hidden:?}"
        );
    }
    for (i, mixed) in ["p\u{0430}ypal", "\u{0391}lpha", "bob\u{0441}at"]
        .into_iter()
        .enumerate()
    {
        let response = register(&app, mixed, &format!("mixed{i}@example.com")).await;
        assert_eq!(
            field_message(&response),
            "Username cannot mix scripts (such as Latin with Cyrillic or Greek letters)",
            "{mixed:?}"
        );
    }
    for (i, fine) in ["иван_42", "山田たろう", "Jean Dupont", "zoë-99", "ΑΛΕΞ"]
        .into_iter()
        .enumerate()
    {
        let response = register(&app, fine, &format!("fine{i}@example.com")).await;
        assert_eq!(
            response.status,
            StatusCode::CREATED,
            "{fine:?}: {}",
            response.text
        );
    }

    // Renaming onto a look-alike is taken too, by either door; a change of case of one's own
    // name is not.
    let bob = app.user("bobby", Role::User).await;
    let rest = app
        .call(
            Method::PUT,
            &format!("/api/users/{}", bob.id),
            Some(&bob.token),
            Some(json!({ "username": "ALICE" })),
        )
        .await;
    assert_eq!(rest.status, StatusCode::BAD_REQUEST, "{}", rest.text);
    assert_eq!(
        rest.body["message"],
        "User already exists with this email or username"
    );
    let graphql = app
        .graphql(
            "mutation($id: ID!) { updateUser(id: $id, input: { username: \"\u{FF21}lice\" }) { id } }",
            json!({ "id": bob.id }),
            Some(&bob.token),
        )
        .await;
    assert_eq!(error_code(&graphql), "CONFLICT", "{}", graphql.text);
    let own = app
        .call(
            Method::PUT,
            &format!("/api/users/{}", alice.id),
            Some(&alice.token),
            Some(json!({ "username": "Alice" })),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert_eq!(own.body["data"]["username"], "Alice");
}

/// Item 11, "existing rows stay": names that collide, or that the new rules refuse, and were
/// stored before the rule keep working (sign-in, their own profile with the same name), and
/// still block a new look-alike. Runs the migration's own text over such rows.
#[tokio::test]
async fn look_alike_rows_stored_before_the_rule_stay() {
    use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
    let app = TestApp::new().await;
    let seed = app.user("seeded", Role::User).await;
    let mut conn = app.db.connect().await;
    conn.batch_execute(include_str!(
        "../../migrations/2026-12-07-000001_username_keys/down.sql"
    ))
    .await
    .unwrap();
    // Rows as the legacy service (or this gateway before the rule) stored them.
    let legacy = ["Legacy", "legacy", "p\u{0430}ypal"];
    for (i, name) in legacy.iter().enumerate() {
        diesel::sql_query(
            "INSERT INTO users (id, username, email, password_hash, created_at) \
             SELECT $1, $2, $3, password_hash, now() + make_interval(secs => $4) FROM users WHERE id = $5",
        )
        .bind::<diesel::sql_types::Uuid, _>(uuid::Uuid::now_v7())
        .bind::<diesel::sql_types::Text, _>(*name)
        .bind::<diesel::sql_types::Text, _>(format!("{i}@example.com"))
        .bind::<diesel::sql_types::Double, _>(i as f64)
        .bind::<diesel::sql_types::Uuid, _>(seed.id)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    conn.batch_execute(include_str!(
        "../../migrations/2026-12-07-000001_username_keys/up.sql"
    ))
    .await
    .unwrap();
    for (i, name) in legacy.iter().enumerate() {
        let login = app
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({ "email": format!("{i}@example.com"), "password": PASSWORD })),
            )
            .await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.text);
        let token = login.body["tokens"]["accessToken"].as_str().unwrap();
        let id = login.body["user"]["id"].as_str().unwrap();
        let same = app
            .call(
                Method::PUT,
                &format!("/api/users/{id}"),
                Some(token),
                Some(json!({ "username": name, "profile": { "bio": "still here" } })),
            )
            .await;
        assert_eq!(same.status, StatusCode::OK, "{name:?}: {}", same.text);
    }
    let twin = register(&app, "LEGACY", "new@example.com").await;
    assert_eq!(twin.status, StatusCode::BAD_REQUEST, "{}", twin.text);
    assert_eq!(
        twin.body["message"],
        "User already exists with this email or username"
    );

    // The oldest of the colliding rows holds the key; when it takes another name, the next one
    // takes the key over, so the name stays taken.
    let oldest = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({ "email": "0@example.com", "password": PASSWORD })),
        )
        .await;
    let renamed = app
        .call(
            Method::PUT,
            &format!("/api/users/{}", oldest.body["user"]["id"].as_str().unwrap()),
            oldest.body["tokens"]["accessToken"].as_str(),
            Some(json!({ "username": "renamed" })),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    let twin = register(&app, "LEGACY", "newer@example.com").await;
    assert_eq!(twin.status, StatusCode::BAD_REQUEST, "{}", twin.text);
    let graphql = app
        .graphql(
            "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }",
            json!({ "i": { "username": "legacY", "email": "g2@example.com", "password": PASSWORD } }),
            None,
        )
        .await;
    assert_eq!(error_code(&graphql), "CONFLICT", "{}", graphql.text);
}
