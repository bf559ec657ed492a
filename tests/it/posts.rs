//! Writing posts and who sees them, through both doors side by side: creation and its
//! validation, changes and deletion by their author or an admin, views, drafts.

use axum::http::{Method, StatusCode};
use blog_gateway::db::models::Role;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::common::{TestApp, create_post, error_code, valid_post};

const UPDATE: &str = "mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { id title isPublished updatedAt } }";

const DELETE: &str = "mutation($id: ID!) { deletePost(id: $id) }";

#[tokio::test]
async fn creating_a_post_validates_every_field() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let anonymous = app
        .graphql("mutation { createPost(input: { title: \"Hello world\", content: \"Long enough body\", category: HEALTH }) { id } }", json!({}), None)
        .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");

    let tags: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    let invalid = app
        .graphql(
            "mutation($input: CreatePostInput!) { createPost(input: $input) { id } }",
            json!({ "input": { "title": "Hey", "content": "short", "category": "HEALTH", "tags": tags } }),
            Some(&ann.token),
        )
        .await;
    assert_eq!(error_code(&invalid), "BAD_USER_INPUT");
    let fields: Vec<&str> = invalid.body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["title", "content", "tags"]);

    let created = app
        .graphql_ok(
            "mutation($input: CreatePostInput!) { createPost(input: $input) { id title content category tags isPublished views likeCount commentCount popularity viewerHasLiked author { username } } }",
            json!({ "input": { "title": "  Trimmed title  ", "content": "A body that is long enough", "category": "HEALTH", "tags": ["a", "b"] } }),
            Some(&ann.token),
        )
        .await;
    let post = &created["createPost"];
    assert_eq!(post["title"], "Trimmed title");
    assert_eq!(post["isPublished"], false, "drafts by default");
    assert_eq!(post["category"], "HEALTH");
    assert_eq!(post["author"]["username"], "ann");
    let id = post["id"].as_str().unwrap();
    assert_eq!(
        uuid::Uuid::parse_str(id).unwrap().get_version_num(),
        7,
        "new ids are UUIDv7"
    );
}

#[tokio::test]
async fn posts_are_changed_by_their_author_or_an_admin() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let moderator = app.user("mod", Role::Moderator).await;
    let admin = app.user("root", Role::Admin).await;
    let published = app.post(&ann, "Ann's published post", true).await;
    let draft = app.post(&ann, "Ann's private draft", false).await;
    let rename = |id: &str| json!({ "id": id, "input": { "title": "Renamed title" } });

    // Someone else's published post: FORBIDDEN; someone else's draft: NOT_FOUND (not revealed).
    for other in [&bob, &moderator] {
        assert_eq!(
            error_code(&app.graphql(UPDATE, rename(&published), Some(&other.token)).await),
            "FORBIDDEN"
        );
        assert_eq!(
            error_code(&app.graphql(UPDATE, rename(&draft), Some(&other.token)).await),
            "NOT_FOUND"
        );
        assert_eq!(
            error_code(
                &app.graphql(DELETE, json!({ "id": published }), Some(&other.token))
                    .await
            ),
            "FORBIDDEN"
        );
        assert_eq!(
            error_code(
                &app.graphql(DELETE, json!({ "id": draft }), Some(&other.token))
                    .await
            ),
            "NOT_FOUND"
        );
    }
    assert_eq!(
        error_code(&app.graphql(UPDATE, rename(&published), None).await),
        "UNAUTHENTICATED"
    );
    let unknown = app
        .graphql(
            UPDATE,
            rename(&uuid::Uuid::now_v7().to_string()),
            Some(&ann.token),
        )
        .await;
    assert_eq!(error_code(&unknown), "NOT_FOUND");
    let invalid = app
        .graphql(
            UPDATE,
            json!({ "id": published, "input": { "title": "x" } }),
            Some(&ann.token),
        )
        .await;
    assert_eq!(error_code(&invalid), "BAD_USER_INPUT");

    let own = app.graphql_ok(UPDATE, rename(&published), Some(&ann.token)).await;
    assert_eq!(own["updatePost"]["title"], "Renamed title");
    let by_admin = app
        .graphql_ok(
            UPDATE,
            json!({ "id": draft, "input": { "isPublished": true } }),
            Some(&admin.token),
        )
        .await;
    assert_eq!(by_admin["updatePost"]["isPublished"], true);

    let deleted = app
        .graphql_ok(DELETE, json!({ "id": published }), Some(&ann.token))
        .await;
    assert_eq!(deleted["deletePost"], published.as_str());
    let gone = app
        .graphql_ok(
            "query($id: ID!) { post(id: $id) { id } }",
            json!({ "id": published }),
            Some(&ann.token),
        )
        .await;
    assert_eq!(gone["post"], Value::Null);
    let by_admin = app
        .graphql_ok(DELETE, json!({ "id": draft }), Some(&admin.token))
        .await;
    assert_eq!(by_admin["deletePost"], draft.as_str());
}

#[tokio::test]
async fn views_are_counted_by_the_mutation_only() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let post = app.post(&ann, "A post to view", true).await;
    let read = "query($id: ID!) { post(id: $id) { views } }";
    app.graphql_ok(read, json!({ "id": post }), None).await;
    assert_eq!(
        app.graphql_ok(read, json!({ "id": post }), None).await["post"]["views"],
        0,
        "queries have no side effects"
    );
    let viewed = app
        .graphql_ok(
            "mutation($id: ID!) { viewPost(id: $id) { views } }",
            json!({ "id": post }),
            None,
        )
        .await;
    assert_eq!(viewed["viewPost"]["views"], 1);
    // views is bigint in Postgres and saturates in the 32-bit GraphQL Int.
    let mut conn = app.db.connect().await;
    use blog_gateway::db::schema::posts;
    diesel::update(posts::table)
        .set(posts::views.eq(5_000_000_000_i64))
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        app.graphql_ok(read, json!({ "id": post }), None).await["post"]["views"],
        i32::MAX
    );
}

#[tokio::test]
async fn drafts_are_visible_only_to_their_author_and_admins() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let admin = app.user("root", Role::Admin).await;
    let draft = app.post(&ann, "A private draft", false).await;
    let query = "query($id: ID!) { post(id: $id) { id isPublished } }";
    let vars = json!({ "id": draft });
    assert_eq!(
        app.graphql_ok(query, vars.clone(), None).await["post"],
        Value::Null
    );
    assert_eq!(
        app.graphql_ok(query, vars.clone(), Some(&bob.token)).await["post"],
        Value::Null
    );
    assert_eq!(
        app.graphql_ok(query, vars.clone(), Some(&ann.token)).await["post"]["id"],
        draft.as_str()
    );
    assert_eq!(
        app.graphql_ok(query, vars.clone(), Some(&admin.token)).await["post"]["id"],
        draft.as_str()
    );
    // An unknown id is null too; a malformed one is BAD_USER_INPUT.
    let unknown = app
        .graphql_ok(query, json!({ "id": uuid::Uuid::now_v7() }), None)
        .await;
    assert_eq!(unknown["post"], Value::Null);
    let malformed = app.graphql(query, json!({ "id": "nope" }), None).await;
    assert_eq!(error_code(&malformed), "BAD_USER_INPUT");
    // user.posts includes drafts for the author only.
    let user_posts = "query($id: ID!) { user(id: $id) { posts { totalCount nodes { id } } } }";
    let own = app
        .graphql_ok(user_posts, json!({ "id": ann.id }), Some(&ann.token))
        .await;
    assert_eq!(own["user"]["posts"]["totalCount"], 1);
    let other = app
        .graphql_ok(user_posts, json!({ "id": ann.id }), Some(&bob.token))
        .await;
    assert_eq!(other["user"]["posts"]["totalCount"], 0);
    assert_eq!(other["user"]["posts"]["nodes"], json!([]));
}

#[tokio::test]
async fn legacy_should_create_a_new_post_and_not_without_authentication() {
    let app = TestApp::new().await;
    let user = app.user("testuser", Role::User).await;
    let response = create_post(&app, &user, valid_post()).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    assert_eq!(response.body["success"], true);
    assert_eq!(response.body["message"], "Post created successfully");
    assert_eq!(response.body["data"]["title"], "Test Post Title");
    assert_eq!(response.body["data"]["author"]["_id"], user.id.to_string());
    let anonymous = app
        .call(Method::POST, "/api/posts", None, Some(valid_post()))
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.body["success"], false);
    assert_eq!(anonymous.body["message"], "Access denied. No token provided.");
}

#[tokio::test]
async fn the_detail_counts_a_view_and_embeds_every_comment() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let id = create_post(&app, &ann, valid_post()).await.body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for text in ["First comment", "Second comment"] {
        let response = app
            .call(
                Method::POST,
                &format!("/api/posts/{id}/comments"),
                Some(&bob.token),
                Some(json!({ "content": text })),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED);
        assert_eq!(response.body["message"], "Comment added successfully");
        assert_eq!(response.body["data"]["author"]["username"], "bob");
        assert_eq!(response.body["data"]["post"], id.as_str());
    }
    let first = app.get(&format!("/api/posts/{id}"), None).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["data"]["views"], 1);
    assert_eq!(first.body["data"]["commentCount"], 2);
    assert_eq!(first.body["data"]["comments"][0]["content"], "First comment");
    assert_eq!(first.body["data"]["comments"][1]["author"]["username"], "bob");
    assert!(
        first.body["data"]["author"]["profile"].get("bio").is_some(),
        "the full profile"
    );
    assert_eq!(
        app.get(&format!("/api/posts/{id}"), None).await.body["data"]["views"],
        2
    );

    assert_eq!(
        app.get("/api/posts/not-an-id", None).await.body,
        json!({ "success": false, "message": "Resource not found" })
    );
    let missing = app
        .get(&format!("/api/posts/{}", uuid::Uuid::now_v7()), None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.body,
        json!({ "success": false, "message": "Post not found" })
    );
    let draft = create_post(
        &app,
        &ann,
        json!({ "title": "A secret draft", "content": "Content long enough", "category": "health" }),
    )
    .await;
    let draft_id = draft.body["data"]["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/api/posts/{draft_id}"), Some(&bob.token))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/posts/{draft_id}"), Some(&ann.token))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn updates_and_deletes_follow_the_legacy_rules() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let admin = app.user("root", Role::Admin).await;
    let id = create_post(&app, &ann, valid_post()).await.body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/posts/{id}");

    let forbidden = app
        .call(
            Method::PUT,
            &path,
            Some(&bob.token),
            Some(json!({ "title": "Stolen title" })),
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert_eq!(
        forbidden.body,
        json!({ "success": false, "message": "Not authorized to update this post" })
    );
    let forbidden = app.call(Method::DELETE, &path, Some(&bob.token), None).await;
    assert_eq!(
        forbidden.body,
        json!({ "success": false, "message": "Not authorized to delete this post" })
    );

    let invalid = app
        .call(
            Method::PUT,
            "/api/posts/xyz",
            Some(&ann.token),
            Some(json!({ "title": "no", "category": "food" })),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    let mut paths: Vec<&str> = invalid.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    paths.sort_unstable();
    assert_eq!(paths, ["category", "id", "title"], "every failing field at once");
    assert!(
        invalid.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["msg"] == "Invalid post ID" && e["location"] == "params")
    );
    assert!(
        invalid.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["msg"] == "Invalid category")
    );

    // Mass assignment: author, views and likes in the body are ignored.
    let updated = app
        .call(
            Method::PUT,
            &path,
            Some(&ann.token),
            Some(json!({ "title": "A better title", "views": 1000, "likes": 50, "author": bob.id })),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(updated.body["message"], "Post updated successfully");
    assert_eq!(updated.body["data"]["title"], "A better title");
    assert_eq!(updated.body["data"]["views"], 0);
    assert_eq!(updated.body["data"]["likes"], 0);
    assert_eq!(updated.body["data"]["author"]["username"], "ann");

    let by_admin = app
        .call(
            Method::PUT,
            &path,
            Some(&admin.token),
            Some(json!({ "isPublished": false })),
        )
        .await;
    assert_eq!(by_admin.body["data"]["isPublished"], false);
    assert_eq!(
        app.call(Method::DELETE, "/api/posts/xyz", Some(&ann.token), None)
            .await
            .body["message"],
        "Resource not found"
    );
    let deleted = app.call(Method::DELETE, &path, Some(&ann.token), None).await;
    assert_eq!(
        deleted.body,
        json!({ "success": true, "message": "Post deleted successfully" })
    );
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&ann.token), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn create_reports_every_invalid_field_and_ignores_unknown_ones() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let response = create_post(
        &app,
        &ann,
        json!({ "title": "abc", "content": 5, "category": "food", "tags": "rust", "isPublished": "yes" }),
    )
    .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let mut paths: Vec<&str> = response.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    paths.sort_unstable();
    assert_eq!(paths, ["category", "content", "isPublished", "tags", "title"]);
    let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    let too_many = create_post(&app, &ann, json!({ "title": "Fine title", "content": "Fine content here", "category": "health", "tags": eleven })).await;
    assert_eq!(too_many.body["errors"][0]["msg"], "Maximum 10 tags allowed");
    let sneaky = create_post(&app, &ann, json!({ "title": "Fine title", "content": "Fine content here", "category": "health", "views": 99, "likesCount": 7, "author": uuid::Uuid::now_v7() })).await;
    assert_eq!(sneaky.status, StatusCode::CREATED);
    assert_eq!(sneaky.body["data"]["views"], 0);
    assert_eq!(sneaky.body["data"]["author"]["username"], "ann");
}

const BY_SLUG: &str = "query($s: String) { post(slug: $s) { id slug title publishedAt readingTimeMinutes } }";

fn is_slug(slug: &str) -> bool {
    !slug.is_empty()
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--")
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[tokio::test]
async fn posts_have_stable_unique_slugs_on_both_doors() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let first = create_post(
        &app,
        &ann,
        json!({ "title": "Crème Brûlée: a Recipe!", "content": "word ".repeat(401), "category": "lifestyle",
                "isPublished": true }),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.body["data"]["slug"], "creme-brulee-a-recipe");
    let first_id = first.body["data"]["id"].as_str().unwrap().to_owned();
    // The same title again, through the other door: a short suffix.
    let second = app.post(&ann, "Crème Brûlée: a Recipe!", true).await;
    let found = app
        .graphql_ok(
            "query($id: ID!) { post(id: $id) { slug } }",
            json!({ "id": second }),
            None,
        )
        .await;
    let second_slug = found["post"]["slug"].as_str().unwrap().to_owned();
    assert!(second_slug.starts_with("creme-brulee-a-recipe-"), "{second_slug}");
    assert!(is_slug(&second_slug), "{second_slug}");
    assert!(
        second_slug.len() <= "creme-brulee-a-recipe-".len() + 6,
        "{second_slug}"
    );

    // Found by slug on both doors, with its publication time and reading time.
    let by_slug = app
        .graphql_ok(BY_SLUG, json!({ "s": "creme-brulee-a-recipe" }), None)
        .await;
    assert_eq!(by_slug["post"]["id"], json!(first_id));
    assert_eq!(
        by_slug["post"]["readingTimeMinutes"], 3,
        "401 words at 200 a minute"
    );
    let published_at = by_slug["post"]["publishedAt"].as_str().unwrap().to_owned();
    let rest = app.get("/api/posts/by-slug/creme-brulee-a-recipe", None).await;
    assert_eq!(rest.status, StatusCode::OK, "{}", rest.text);
    assert_eq!(rest.body["data"]["id"], json!(first_id));
    assert_eq!(rest.body["data"]["publishedAt"], json!(published_at));
    assert_eq!(rest.body["data"]["views"], 1, "by slug counts a view, as by id");
    let again = app.get("/api/posts/by-slug/creme-brulee-a-recipe", None).await;
    assert_eq!(again.body["data"]["views"], 2, "never served from the cache");

    // A new title keeps the slug.
    let renamed = app
        .graphql_ok(
            UPDATE,
            json!({ "id": first_id, "input": { "title": "Another title entirely" } }),
            Some(&ann.token),
        )
        .await;
    assert_eq!(renamed["updatePost"]["title"], "Another title entirely");
    let kept = app
        .graphql_ok(BY_SLUG, json!({ "s": "creme-brulee-a-recipe" }), None)
        .await;
    assert_eq!(kept["post"]["title"], "Another title entirely");

    // Unknown, impossible and ambiguous lookups.
    for slug in ["no-such-post", "Not A Slug!", "nul\u{0}byte", &"a".repeat(500)] {
        let none = app.graphql_ok(BY_SLUG, json!({ "s": slug }), None).await;
        assert_eq!(none["post"], Value::Null, "{slug:?}");
    }
    let missing = app.get("/api/posts/by-slug/no-such-post", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["message"], "Post not found");
    let nul = app.get("/api/posts/by-slug/nul%00byte", None).await;
    assert_eq!(nul.status, StatusCode::NOT_FOUND, "{}", nul.text);
    for (document, variables) in [
        (
            "query($s: String) { post(slug: $s) { id } }",
            json!({ "s": null }),
        ),
        (
            "query($id: ID, $s: String) { post(id: $id, slug: $s) { id } }",
            json!({ "id": first_id, "s": "creme-brulee-a-recipe" }),
        ),
    ] {
        let both = app.graphql(document, variables, None).await;
        assert_eq!(error_code(&both), "BAD_USER_INPUT", "{}", both.text);
    }
}

#[tokio::test]
async fn drafts_by_slug_and_publication_times() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let draft = app.post(&ann, "Draft for later", false).await;
    let own = app
        .graphql_ok(BY_SLUG, json!({ "s": "draft-for-later" }), Some(&ann.token))
        .await;
    assert_eq!(own["post"]["id"], json!(draft));
    assert_eq!(own["post"]["publishedAt"], Value::Null, "never published");
    for token in [None, Some(bob.token.as_str())] {
        let hidden = app
            .graphql_ok(BY_SLUG, json!({ "s": "draft-for-later" }), token)
            .await;
        assert_eq!(hidden["post"], Value::Null);
        let rest = app.get("/api/posts/by-slug/draft-for-later", token).await;
        assert_eq!(rest.status, StatusCode::NOT_FOUND);
    }

    // Published later: the time of publishing, kept through unpublishing and publishing again.
    let before = chrono::Utc::now();
    for published in [true, false, true] {
        app.graphql_ok(
            UPDATE,
            json!({ "id": draft, "input": { "isPublished": published } }),
            Some(&ann.token),
        )
        .await;
    }
    let times = app
        .graphql_ok(
            "query($id: ID!) { post(id: $id) { createdAt publishedAt } }",
            json!({ "id": draft }),
            None,
        )
        .await;
    let published_at: chrono::DateTime<chrono::Utc> =
        times["post"]["publishedAt"].as_str().unwrap().parse().unwrap();
    assert!(published_at >= before - chrono::Duration::seconds(1), "{times}");
    let first_time = times["post"]["publishedAt"].clone();
    app.graphql_ok(
        UPDATE,
        json!({ "id": draft, "input": { "isPublished": false } }),
        Some(&ann.token),
    )
    .await;
    app.graphql_ok(
        UPDATE,
        json!({ "id": draft, "input": { "isPublished": true } }),
        Some(&ann.token),
    )
    .await;
    let later = app
        .graphql_ok(
            "query($id: ID!) { post(id: $id) { publishedAt } }",
            json!({ "id": draft }),
            None,
        )
        .await;
    assert_eq!(later["post"]["publishedAt"], first_time);

    // Rows written by plain INSERTs (a seed script) get a slug and a publication time too.
    let mut conn = app.db.connect().await;
    diesel::sql_query(
        "INSERT INTO posts (id, author_id, title, content, category, tags, is_published) \
         VALUES (gen_random_uuid(), $1, 'Draft for later', 'Inserted by hand, not by the gateway', 'technology', '{}', true)",
    )
    .bind::<diesel::sql_types::Uuid, _>(ann.id)
    .execute(&mut conn)
    .await
    .unwrap();
    let inserted = app
        .graphql_ok(
            "{ posts(first: 1) { nodes { slug createdAt publishedAt } } }",
            json!({}),
            None,
        )
        .await;
    let node = &inserted["posts"]["nodes"][0];
    assert!(
        node["slug"].as_str().unwrap().starts_with("draft-for-later-"),
        "{inserted}"
    );
    assert_eq!(node["publishedAt"], node["createdAt"]);
}

#[tokio::test]
async fn post_counts_are_published_posts_read_in_one_statement() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let cat = app.user("cat", Role::User).await;
    for (author, published, drafts) in [(&ann, 3, 2), (&bob, 1, 0), (&cat, 0, 1)] {
        for n in 0..published {
            app.post(author, &format!("Published post {n}"), true).await;
        }
        for n in 0..drafts {
            app.post(author, &format!("Draft post {n}"), false).await;
        }
    }
    let (answer, counts) = app
        .count_statements(app.graphql(
            "{ posts(first: 20) { nodes { author { username postCount } } } }",
            json!({}),
            Some(&ann.token),
        ))
        .await;
    assert!(answer.body.get("errors").is_none(), "{}", answer.text);
    for node in answer.body["data"]["posts"]["nodes"].as_array().unwrap() {
        let expected = match node["author"]["username"].as_str().unwrap() {
            "ann" => 3,
            "bob" => 1,
            other => panic!("{other} has no published post"),
        };
        assert_eq!(
            node["author"]["postCount"], expected,
            "drafts never count, even for their author"
        );
    }
    // The viewer, the page, the authors' bylines, and one count for every author.
    assert!(counts.queries <= 4, "{counts:?}");
    let none = app
        .graphql_ok(
            "query($id: ID!) { user(id: $id) { postCount } }",
            json!({ "id": cat.id }),
            None,
        )
        .await;
    assert_eq!(none["user"]["postCount"], 0);
}
