//! Per-entity invalidation of the response cache (issue 22, part 3), checked against an oracle:
//! after every kind of write, through both doors, every cacheable anonymous read answered by the
//! caching instance must equal the answer of an instance that never caches, over the same
//! database. Before each write every read is cached (its second request is a HIT), so a tag a
//! read forgot to name, or a write forgot to touch, shows as a stale answer here.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use blog_gateway::db::models::Role;
use serde_json::{Value, json};

use crate::common::{RedisPrefix, TestApp, TestUser, create_post, redis_flags, redis_url, valid_post};

const POST: &str = "fragment P on Post { id title slug publishedAt readingTimeMinutes excerpt(length: 40)
  category tags isPublished likeCount commentCount author { ...U }
  comments(first: 5) { totalCount edges { node { id content author { username } } } } }";
const USER: &str =
    "fragment U on User { id username email role fullName isActive profile { firstName lastName bio } }";

/// Mutations that change nothing an anonymous reader sees (views lag by design).
const KEEPING: &[&str] = &["login", "refreshToken", "logout", "viewPost"];

/// What the writes so far created, for the reads to ask about.
#[derive(Default)]
struct Known {
    posts: Vec<String>,
    slugs: Vec<String>,
    comments: Vec<String>,
    users: Vec<String>,
    usernames: Vec<String>,
}

/// Every cacheable anonymous read: (label, a GraphQL body or a REST path).
fn reads(known: &Known) -> Vec<(String, Read)> {
    let mut reads = vec![
        gql(
            "feed",
            "{ posts(first: 50) { totalCount edges { cursor node { ...P } } } }",
            json!({}),
        ),
        gql(
            "feed by popularity",
            "{ posts(first: 50, sort: POPULAR) { edges { node { id likeCount commentCount } } } }",
            json!({}),
        ),
        gql(
            "popular",
            "{ popularPosts(limit: 10) { id title likeCount commentCount author { username } } }",
            json!({}),
        ),
        gql(
            "tags",
            "{ tags(first: 50) { totalCount edges { node { name postCount } } } }",
            json!({}),
        ),
        ("rest feed".into(), Read::Rest("/api/posts?limit=50".into())),
        ("rest popular".into(), Read::Rest("/api/posts/popular".into())),
    ];
    for id in &known.posts {
        reads.push(gql(
            "post by id",
            "query($id: ID!) { post(id: $id) { ...P } }",
            json!({ "id": id }),
        ));
    }
    for slug in &known.slugs {
        reads.push(gql(
            "post by slug",
            "query($slug: String!) { post(slug: $slug) { id title } }",
            json!({ "slug": slug }),
        ));
    }
    for id in &known.users {
        reads.push(gql(
            "user by id",
            "query($id: ID!) { user(id: $id) { ...U postCount posts(first: 10) { totalCount edges { node { id title } } } } }",
            json!({ "id": id }),
        ));
        reads.push(("rest user".into(), Read::Rest(format!("/api/users/{id}"))));
        reads.push((
            "rest posts by author".into(),
            Read::Rest(format!("/api/posts?author={id}&limit=50")),
        ));
    }
    for name in &known.usernames {
        reads.push(gql(
            "user by name",
            "query($name: String!) { user(username: $name) { id username fullName } }",
            json!({ "name": name }),
        ));
    }
    for id in &known.comments {
        reads.push(gql(
            "comment node",
            "query($id: ID!) { node(id: $id) { id ... on Comment { content post { id title commentCount } author { username } } } }",
            json!({ "id": id }),
        ));
    }
    reads
}

enum Read {
    Graphql(Value),
    Rest(String),
}

fn gql(label: &str, query: &str, variables: Value) -> (String, Read) {
    let query = if query.contains("...P") {
        format!("{query}\n{POST}\n{USER}")
    } else if query.contains("...U") {
        format!("{query}\n{USER}")
    } else {
        query.to_owned()
    };
    (
        format!("{label} {variables}"),
        Read::Graphql(json!({ "query": query, "variables": variables })),
    )
}

/// (x-cache, body) of one read.
async fn answer(app: &TestApp, read: &Read) -> (String, Value) {
    let response = match read {
        Read::Graphql(body) => app.call(Method::POST, "/graphql", None, Some(body.clone())).await,
        Read::Rest(path) => app.get(path, None).await,
    };
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    let cache = response
        .headers
        .get("x-cache")
        .map_or(String::new(), |v| v.to_str().unwrap().to_owned());
    (cache, response.body)
}

/// Caches every read (its second answer is a HIT), runs `write`, then compares every read
/// with the oracle.
async fn check_write(
    cached: &TestApp,
    oracle: &TestApp,
    known: &Known,
    name: &str,
    write: impl AsyncFnOnce(),
) {
    let reads = reads(known);
    for (label, read) in &reads {
        answer(cached, read).await;
        let (cache, body) = answer(cached, read).await;
        assert_eq!(cache, "HIT", "{label} was not cached before `{name}`: {body}");
    }
    write().await;
    for (label, read) in &reads {
        let (_, seen) = answer(cached, read).await;
        let (_, truth) = answer(oracle, read).await;
        assert_eq!(seen, truth, "after `{name}`, {label} served a stale answer");
    }
}

async fn gql_ok(app: &TestApp, user: &TestUser, query: &str, variables: Value) -> Value {
    app.graphql_ok(query, variables, Some(&user.token)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_every_write_each_cached_read_matches_an_uncached_instance() {
    let url = redis_url();
    let prefix = RedisPrefix::new();
    let cached = TestApp::with_flags(&redis_flags(&url, &prefix, &[])).await;
    let oracle = cached.another_instance(&["--cache-enabled", "false"]).await;
    let root = cached.user("root", Role::Admin).await;
    let ann = cached.user("ann", Role::User).await;
    let bob = cached.user("bob", Role::User).await;
    let mut known = Known {
        users: vec![ann.id.to_string(), bob.id.to_string()],
        usernames: vec![
            "ann".into(),
            "bob".into(),
            "robert".into(),
            "cara".into(),
            "dan".into(),
        ],
        ..Known::default()
    };
    let first = cached.post(&ann, "Ann's first post", true).await;
    let second = cached.post(&bob, "Bob's published post", true).await;
    let comment = cached.comment(&bob, &first, "A first comment").await;
    known.posts = vec![first.clone(), second.clone()];
    known.slugs = vec!["anns-first-post".into(), "bobs-draft".into()];
    known.comments = vec![comment.clone()];
    let mut exercised = BTreeSet::new();
    let create = "mutation($input: CreatePostInput!) { createPost(input: $input) { id } }";

    // GraphQL writes, one of each mutation.
    let draft = std::cell::RefCell::new(String::new());
    check_write(&cached, &oracle, &known, "createPost", async || {
        gql_ok(
            &cached,
            &bob,
            create,
            json!({ "input": { "title": "Bob's draft", "content": "A draft that is not out yet.",
            "category": "TECHNOLOGY", "tags": ["draft"], "isPublished": false } }),
        )
        .await;
        gql_ok(
            &cached,
            &ann,
            create,
            json!({ "input": { "title": "Ann's second post", "content": "Published at once.",
            "category": "LIFESTYLE", "tags": ["rust", "new"], "isPublished": true } }),
        )
        .await;
    })
    .await;
    exercised.insert("createPost");
    let bobs = cached
        .graphql_ok(
            "query($id: ID!) { user(id: $id) { posts(first: 10) { edges { node { id } } } } }",
            json!({ "id": bob.id.to_string() }),
            Some(&bob.token),
        )
        .await;
    *draft.borrow_mut() = bobs["user"]["posts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .find(|id| *id != second)
        .unwrap();
    let draft = draft.into_inner();
    known.posts.push(draft.clone());

    let update = "mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { id } }";
    check_write(&cached, &oracle, &known, "updatePost (title)", async || {
        gql_ok(
            &cached,
            &ann,
            update,
            json!({ "id": first, "input": { "title": "Ann's renamed post" } }),
        )
        .await;
    })
    .await;
    check_write(
        &cached,
        &oracle,
        &known,
        "updatePost (publish a draft)",
        async || {
            gql_ok(
                &cached,
                &bob,
                update,
                json!({ "id": draft, "input": { "isPublished": true } }),
            )
            .await;
        },
    )
    .await;
    exercised.insert("updatePost");
    check_write(&cached, &oracle, &known, "likePost", async || {
        gql_ok(
            &cached,
            &bob,
            "mutation($id: ID!) { likePost(id: $id) { id } }",
            json!({ "id": first }),
        )
        .await;
    })
    .await;
    exercised.insert("likePost");
    check_write(&cached, &oracle, &known, "unlikePost", async || {
        gql_ok(
            &cached,
            &bob,
            "mutation($id: ID!) { unlikePost(id: $id) { id } }",
            json!({ "id": first }),
        )
        .await;
    })
    .await;
    exercised.insert("unlikePost");
    check_write(&cached, &oracle, &known, "addComment", async || {
        gql_ok(
            &cached,
            &ann,
            "mutation($id: ID!) { addComment(postId: $id, content: \"Another comment\") { id } }",
            json!({ "id": second }),
        )
        .await;
    })
    .await;
    exercised.insert("addComment");
    check_write(&cached, &oracle, &known, "updateComment", async || {
        gql_ok(
            &cached,
            &bob,
            "mutation($id: ID!) { updateComment(id: $id, content: \"An edited comment\") { id } }",
            json!({ "id": comment }),
        )
        .await;
    })
    .await;
    exercised.insert("updateComment");
    check_write(&cached, &oracle, &known, "deleteComment", async || {
        gql_ok(
            &cached,
            &bob,
            "mutation($id: ID!) { deleteComment(id: $id) }",
            json!({ "id": comment }),
        )
        .await;
    })
    .await;
    exercised.insert("deleteComment");
    check_write(&cached, &oracle, &known, "updateProfile", async || {
        gql_ok(
            &cached,
            &bob,
            "mutation { updateProfile(input: { firstName: \"Robert\", bio: \"Writes.\" }) { id } }",
            json!({}),
        )
        .await;
    })
    .await;
    exercised.insert("updateProfile");
    check_write(&cached, &oracle, &known, "changePassword", async || {
        gql_ok(
            &cached,
            &ann,
            "mutation { changePassword(currentPassword: \"password123\", newPassword: \"password456\") }",
            json!({}),
        )
        .await;
    })
    .await;
    exercised.insert("changePassword");
    check_write(&cached, &oracle, &known, "updateUser (rename)", async || {
        gql_ok(
            &cached,
            &root,
            "mutation($id: ID!) { updateUser(id: $id, input: { username: \"robert\" }) { id } }",
            json!({ "id": bob.id.to_string() }),
        )
        .await;
    })
    .await;
    exercised.insert("updateUser");
    let cara = std::cell::RefCell::new(None);
    check_write(&cached, &oracle, &known, "register", async || {
        let data = cached
            .graphql_ok(
                "mutation { register(input: { username: \"cara\", email: \"cara@example.com\", password: \"password123\" }) { user { id } } }",
                json!({}),
                None,
            )
            .await;
        *cara.borrow_mut() = Some(data["register"]["user"]["id"].as_str().unwrap().to_owned());
    })
    .await;
    exercised.insert("register");
    let cara = cara.into_inner().unwrap();
    known.users.push(cara.clone());
    check_write(&cached, &oracle, &known, "setUserRole", async || {
        gql_ok(
            &cached,
            &root,
            "mutation($id: ID!) { setUserRole(userId: $id, role: MODERATOR) { id } }",
            json!({ "id": cara }),
        )
        .await;
    })
    .await;
    exercised.insert("setUserRole");
    check_write(
        &cached,
        &oracle,
        &known,
        "setUserActive (deactivate an author)",
        async || {
            gql_ok(
                &cached,
                &root,
                "mutation($id: ID!) { setUserActive(userId: $id, active: false) { id } }",
                json!({ "id": bob.id.to_string() }),
            )
            .await;
        },
    )
    .await;
    exercised.insert("setUserActive");
    check_write(&cached, &oracle, &known, "deletePost", async || {
        gql_ok(
            &cached,
            &ann,
            "mutation($id: ID!) { deletePost(id: $id) }",
            json!({ "id": first }),
        )
        .await;
    })
    .await;
    exercised.insert("deletePost");

    // Every mutation of the schema is either exercised above or changes nothing readers see.
    let schema = cached
        .graphql_ok(
            "{ __schema { mutationType { fields { name } } } }",
            json!({}),
            None,
        )
        .await;
    let all: BTreeSet<&str> = schema["__schema"]["mutationType"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .filter(|name| !KEEPING.contains(name))
        .collect();
    assert_eq!(all, exercised, "a mutation without an invalidation check");

    // REST writes.
    let mut body = valid_post();
    body["title"] = json!("Written over REST");
    let rest_post = std::cell::RefCell::new(String::new());
    check_write(&cached, &oracle, &known, "POST /api/posts", async || {
        let created = create_post(&cached, &ann, body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        *rest_post.borrow_mut() = created.body["data"]["id"].as_str().unwrap().to_owned();
    })
    .await;
    let rest_post = rest_post.into_inner();
    known.posts.push(rest_post.clone());
    check_write(&cached, &oracle, &known, "PUT /api/posts/:id", async || {
        let updated = cached
            .call(
                Method::PUT,
                &format!("/api/posts/{rest_post}"),
                Some(&ann.token),
                Some(json!({ "title": "Renamed over REST" })),
            )
            .await;
        assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    })
    .await;
    let dan = cached.user("dan", Role::User).await;
    check_write(&cached, &oracle, &known, "POST /api/posts/:id/like", async || {
        let liked = cached
            .call(
                Method::POST,
                &format!("/api/posts/{rest_post}/like"),
                Some(&dan.token),
                None,
            )
            .await;
        assert_eq!(liked.status, StatusCode::OK, "{}", liked.text);
    })
    .await;
    let rest_comment = std::cell::RefCell::new(String::new());
    check_write(
        &cached,
        &oracle,
        &known,
        "POST /api/posts/:id/comments",
        async || {
            let added = cached
                .call(
                    Method::POST,
                    &format!("/api/posts/{rest_post}/comments"),
                    Some(&dan.token),
                    Some(json!({ "content": "Over REST" })),
                )
                .await;
            assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
            *rest_comment.borrow_mut() = added.body["data"]["id"].as_str().unwrap().to_owned();
        },
    )
    .await;
    let rest_comment = rest_comment.into_inner();
    known.comments.push(rest_comment.clone());
    check_write(
        &cached,
        &oracle,
        &known,
        "DELETE /api/posts/:id/comments/:id",
        async || {
            let deleted = cached
                .call(
                    Method::DELETE,
                    &format!("/api/posts/{rest_post}/comments/{rest_comment}"),
                    Some(&dan.token),
                    None,
                )
                .await;
            assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
        },
    )
    .await;
    check_write(
        &cached,
        &oracle,
        &known,
        "DELETE /api/posts/:id/like",
        async || {
            let unliked = cached
                .call(
                    Method::DELETE,
                    &format!("/api/posts/{rest_post}/like"),
                    Some(&dan.token),
                    None,
                )
                .await;
            assert_eq!(unliked.status, StatusCode::OK, "{}", unliked.text);
        },
    )
    .await;
    check_write(&cached, &oracle, &known, "PUT /api/users/:id", async || {
        let updated = cached
            .call(
                Method::PUT,
                &format!("/api/users/{}", ann.id),
                Some(&ann.token),
                Some(json!({ "username": "annie" })),
            )
            .await;
        assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    })
    .await;
    check_write(&cached, &oracle, &known, "POST /api/auth/register", async || {
        let registered = cached
            .call(
                Method::POST,
                "/api/auth/register",
                None,
                Some(json!({ "username": "eve", "email": "eve@example.com", "password": "password123" })),
            )
            .await;
        assert_eq!(registered.status, StatusCode::CREATED, "{}", registered.text);
    })
    .await;
    check_write(&cached, &oracle, &known, "DELETE /api/posts/:id", async || {
        let deleted = cached
            .call(
                Method::DELETE,
                &format!("/api/posts/{rest_post}"),
                Some(&ann.token),
                None,
            )
            .await;
        assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    })
    .await;
}

#[tokio::test]
async fn a_like_keeps_the_cached_answers_that_do_not_show_the_post() {
    let app = TestApp::with_flags(&["--cache-enabled", "true"]).await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let liked = app.post(&ann, "Liked post", true).await;
    let other = app.post(&bob, "Other post", true).await;
    let of = |id: &str| json!({ "query": "query($id: ID!) { post(id: $id) { id title likeCount } }", "variables": { "id": id } });
    for id in [&liked, &other] {
        answer(&app, &Read::Graphql(of(id))).await;
        assert_eq!(answer(&app, &Read::Graphql(of(id))).await.0, "HIT");
    }
    app.graphql_ok(
        "mutation($id: ID!) { likePost(id: $id) { id } }",
        json!({ "id": liked }),
        Some(&bob.token),
    )
    .await;
    let (cache, body) = answer(&app, &Read::Graphql(of(&liked))).await;
    assert_eq!(
        (cache.as_str(), &body["data"]["post"]["likeCount"]),
        ("MISS", &json!(1))
    );
    let (cache, _) = answer(&app, &Read::Graphql(of(&other))).await;
    assert_eq!(cache, "HIT", "a post the like did not touch stays cached");
}
