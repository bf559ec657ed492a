//! The legacy REST routes, including the legacy service's own test cases (ported from its
//! guide: auth and posts), answered with the legacy bodies.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use blog_gateway::db::models::Role;
use serde_json::{Value, json};

use crate::common::{PASSWORD, TestApp, TestUser};

fn valid_post() -> Value {
    json!({ "title": "Test Post Title", "content": "This is test post content with enough characters",
            "category": "technology", "tags": ["test", "api"], "isPublished": true })
}

async fn create_post(app: &TestApp, user: &TestUser, body: Value) -> crate::common::TestResponse {
    app.call(Method::POST, "/api/posts", Some(&user.token), Some(body))
        .await
}

// ---- the legacy suite: "Auth Controller" ----

#[tokio::test]
async fn legacy_should_register_a_new_user_successfully() {
    let app = TestApp::new().await;
    let body = json!({ "username": "testuser", "email": "test@example.com", "password": "password123",
                       "profile": { "firstName": "Test", "lastName": "User" } });
    let response = app
        .call(Method::POST, "/api/auth/register", None, Some(body))
        .await;
    assert_eq!(response.status, StatusCode::CREATED);
    assert_eq!(response.body["success"], true);
    assert_eq!(response.body["user"]["email"], "test@example.com");
    assert!(response.body["tokens"]["accessToken"].is_string());
    assert!(response.body["tokens"]["refreshToken"].is_string());
}

#[tokio::test]
async fn legacy_should_not_register_user_with_invalid_email() {
    let app = TestApp::new().await;
    let body = json!({ "username": "testuser", "email": "invalid-email", "password": "password123" });
    let response = app
        .call(Method::POST, "/api/auth/register", None, Some(body))
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.body["success"], false);
    assert_eq!(
        response.body["errors"][0],
        json!({ "type": "field", "value": "invalid-email", "msg": "Invalid email", "path": "email", "location": "body" })
    );
}

#[tokio::test]
async fn legacy_should_not_register_user_with_duplicate_email() {
    let app = TestApp::new().await;
    let body = json!({ "username": "testuser", "email": "test@example.com", "password": "password123" });
    app.call(Method::POST, "/api/auth/register", None, Some(body.clone()))
        .await;
    let response = app
        .call(Method::POST, "/api/auth/register", None, Some(body))
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.body["success"], false);
    assert!(
        response.body["message"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
}

#[tokio::test]
async fn legacy_should_login_with_valid_credentials_and_not_with_invalid_ones() {
    let app = TestApp::new().await;
    let body = json!({ "username": "testuser", "email": "test@example.com", "password": "password123" });
    app.call(Method::POST, "/api/auth/register", None, Some(body))
        .await;
    let ok = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({ "email": "test@example.com", "password": "password123" })),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body["success"], true);
    assert!(ok.body["tokens"]["accessToken"].is_string());
    let bad = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({ "email": "test@example.com", "password": "wrongpassword" })),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bad.body["success"], false);
}

// ---- the legacy suite: "Posts API" ----

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
async fn legacy_should_get_all_posts_and_filter_by_category() {
    let app = TestApp::new().await;
    let user = app.user("testuser", Role::User).await;
    for (title, category) in [("First Post", "technology"), ("Second Post", "lifestyle")] {
        let body = json!({ "title": title, "content": format!("Content of {title}"), "category": category, "isPublished": true });
        assert_eq!(create_post(&app, &user, body).await.status, StatusCode::CREATED);
    }
    let all = app.get("/api/posts", None).await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.body["success"], true);
    assert_eq!(all.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(all.body["pagination"]["total"], 2);
    let tech = app.get("/api/posts?category=technology", None).await;
    assert_eq!(tech.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(tech.body["data"][0]["category"], "technology");
}

// ---- the rest of the contract ----

#[tokio::test]
async fn list_items_have_the_legacy_shape_and_pagination() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    for i in 0..3 {
        let body = json!({ "title": format!("Post number {i}"), "content": "Content long enough", "category": "business", "tags": ["x"], "isPublished": true });
        create_post(&app, &ann, body).await;
    }
    create_post(
        &app,
        &ann,
        json!({ "title": "Draft post", "content": "Content long enough", "category": "business" }),
    )
    .await;
    let page = app.get("/api/posts?page=2&limit=2&sort=title", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.body["pagination"],
        json!({ "page": 2, "limit": 2, "total": 3, "pages": 2 })
    );
    let item = &page.body["data"][0];
    assert_eq!(item["title"], "Post number 2");
    let keys: Vec<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
    for key in [
        "_id",
        "id",
        "title",
        "content",
        "category",
        "tags",
        "isPublished",
        "views",
        "likes",
        "commentCount",
        "author",
        "createdAt",
        "updatedAt",
    ] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
    assert_eq!(item["_id"], item["id"]);
    assert_eq!(
        item["author"],
        json!({ "_id": ann.id, "id": ann.id, "username": "ann", "profile": { "firstName": "Test", "lastName": "ann" } })
    );
    assert!(item["createdAt"].as_str().unwrap().ends_with('Z'));

    let invalid = app.get("/api/posts?page=0&limit=500&sort=random", None).await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    assert_eq!(invalid.body["message"], "Validation failed");
    let messages: Vec<&str> = invalid.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["msg"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "Page must be a positive integer",
            "Limit must be between 1 and 100",
            "Invalid sort parameter"
        ]
    );
    assert_eq!(invalid.body["errors"][0]["location"], "query");
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

#[tokio::test]
async fn likes_and_comment_deletion() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let moderator = app.user("mod", Role::Moderator).await;
    let id = create_post(&app, &ann, valid_post()).await.body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let like = app
        .call(
            Method::POST,
            &format!("/api/posts/{id}/like"),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(
        like.body,
        json!({ "success": true, "data": { "likes": 1, "liked": true } })
    );
    let again = app
        .call(
            Method::POST,
            &format!("/api/posts/{id}/like"),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(again.body["data"]["likes"], 1);
    let unlike = app
        .call(
            Method::DELETE,
            &format!("/api/posts/{id}/like"),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(
        unlike.body,
        json!({ "success": true, "data": { "likes": 0, "liked": false } })
    );
    assert_eq!(
        app.call(Method::POST, &format!("/api/posts/{id}/like"), None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    let comment = app
        .call(
            Method::POST,
            &format!("/api/posts/{id}/comments"),
            Some(&bob.token),
            Some(json!({ "content": "Hi" })),
        )
        .await;
    let comment_id = comment.body["data"]["id"].as_str().unwrap().to_owned();
    let empty = app
        .call(
            Method::POST,
            &format!("/api/posts/{id}/comments"),
            Some(&bob.token),
            Some(json!({ "content": "   " })),
        )
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let path = format!("/api/posts/{id}/comments/{comment_id}");
    let by_ann = app.call(Method::DELETE, &path, Some(&ann.token), None).await;
    assert_eq!(by_ann.status, StatusCode::FORBIDDEN);
    let wrong_post = app
        .call(
            Method::DELETE,
            &format!("/api/posts/{}/comments/{comment_id}", uuid::Uuid::now_v7()),
            Some(&moderator.token),
            None,
        )
        .await;
    assert_eq!(wrong_post.status, StatusCode::NOT_FOUND);
    let by_mod = app
        .call(Method::DELETE, &path, Some(&moderator.token), None)
        .await;
    assert_eq!(
        by_mod.body,
        json!({ "success": true, "message": "Comment deleted successfully" })
    );
}

#[tokio::test]
async fn popular_and_users_routes() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let id = create_post(&app, &ann, valid_post()).await.body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.call(
        Method::POST,
        &format!("/api/posts/{id}/like"),
        Some(&bob.token),
        None,
    )
    .await;
    let popular = app.get("/api/posts/popular?limit=5", None).await;
    assert_eq!(popular.status, StatusCode::OK);
    assert_eq!(popular.body["data"][0]["likes"], 1);
    assert_eq!(
        app.get("/api/posts/popular?limit=0", None).await.status,
        StatusCode::BAD_REQUEST
    );

    let me = app.get("/api/users/me", Some(&ann.token)).await;
    assert_eq!(me.body["data"]["username"], "ann");
    assert_eq!(me.body["data"]["fullName"], "Test ann");
    assert!(me.body["data"].get("passwordHash").is_none() && !me.text.contains("argon2"));
    assert_eq!(
        app.get("/api/users/me", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let other = app.get(&format!("/api/users/{}", bob.id), None).await;
    assert_eq!(other.body["data"]["username"], "bob");
    assert!(other.body["data"].get("email").is_none());
    assert_eq!(
        app.get(&format!("/api/users/{}", uuid::Uuid::now_v7()), None)
            .await
            .body["message"],
        "User not found"
    );
}

#[tokio::test]
async fn bad_requests_get_json_errors() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let raw = |body: &'static str, content_type: &'static str| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/posts")
            .header("authorization", format!("Bearer {}", ann.token))
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap()
    };
    let malformed = app.send(raw("{\"title\": ", "application/json")).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        malformed.body,
        json!({ "success": false, "message": "Malformed JSON body" })
    );
    // Only a body of no bytes is the empty object (as the legacy body parser read it); blank
    // JSON is malformed (a PUT of "\r" answered 200 as if it changed nothing, found by the fuzzer).
    for blank in ["\r", " ", "\n\t"] {
        let blank = app.send(raw(blank, "application/json")).await;
        assert_eq!(blank.status, StatusCode::BAD_REQUEST, "{blank:?}");
        assert_eq!(blank.body["message"], "Malformed JSON body");
    }
    let wrong_type = app.send(raw("title=x", "text/plain")).await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(wrong_type.body["success"], false);
    let huge = format!("{{\"title\": \"{}\"}}", "x".repeat(11 * 1024 * 1024));
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/posts")
        .header("authorization", format!("Bearer {}", ann.token))
        .header("content-type", "application/json")
        .body(Body::from(huge))
        .unwrap();
    let too_large = app.send(request).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_large.body["success"], false);
    let unknown = app.get("/api/nothing/here", None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.body,
        json!({ "success": false, "message": "Route not found" })
    );
    let wrong_method = app.call(Method::PATCH, "/api/posts", None, None).await;
    assert_eq!(wrong_method.body["message"], "Route not found");
    let empty = app.call(Method::POST, "/api/posts", Some(&ann.token), None).await;
    assert_eq!(
        empty.status,
        StatusCode::BAD_REQUEST,
        "an empty body is an empty object: every field is missing"
    );
    assert_eq!(empty.body["errors"].as_array().unwrap().len(), 3);
    let login = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({ "email": "ann@example.com", "password": PASSWORD })),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK);
}
