//! Authentication on both doors: register, login, refresh rotation, logout, tokens, roles.

use axum::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use blog_gateway::db::models::Role;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::common::{PASSWORD, TestApp, TestUser, error_code};

async fn rest_login(app: &TestApp, email: &str, password: &str) -> crate::common::TestResponse {
    app.call(
        Method::POST,
        "/api/auth/login",
        None,
        Some(json!({ "email": email, "password": password })),
    )
    .await
}

async fn rest_refresh(app: &TestApp, token: &str) -> crate::common::TestResponse {
    app.call(
        Method::POST,
        "/api/auth/refresh",
        None,
        Some(json!({ "refreshToken": token })),
    )
    .await
}

#[tokio::test]
async fn register_answers_the_legacy_body_and_refuses_duplicates() {
    let app = TestApp::new().await;
    let body = json!({ "username": "testuser", "email": "Test@Example.com", "password": PASSWORD,
                       "profile": { "firstName": "Test", "lastName": "User" }, "role": "admin" });
    let response = app
        .call(Method::POST, "/api/auth/register", None, Some(body.clone()))
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    assert_eq!(response.body["success"], true);
    assert_eq!(response.body["message"], "User registered successfully");
    assert_eq!(
        response.body["user"]["email"], "test@example.com",
        "stored lowercase"
    );
    assert_eq!(
        response.body["user"]["role"], "user",
        "a body cannot choose its role"
    );
    assert_eq!(response.body["user"]["profile"]["firstName"], "Test");
    assert!(response.body["tokens"]["accessToken"].is_string());
    assert!(response.body["tokens"]["refreshToken"].is_string());
    assert!(!response.text.contains("argon2"), "no hash in answers");

    // Same email in another case, or same username: 400 with the legacy message.
    for duplicate in [
        json!({ "username": "other", "email": "TEST@example.com", "password": PASSWORD }),
        json!({ "username": "testuser", "email": "new@example.com", "password": PASSWORD }),
    ] {
        let response = app
            .call(Method::POST, "/api/auth/register", None, Some(duplicate))
            .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST);
        assert_eq!(response.body["success"], false);
        assert_eq!(
            response.body["message"],
            "User already exists with this email or username"
        );
    }
    let graphql = app
        .graphql(
            "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }",
            json!({ "i": { "username": "testuser", "email": "x@example.com", "password": PASSWORD } }),
            None,
        )
        .await;
    assert_eq!(error_code(&graphql), "CONFLICT");
}

#[tokio::test]
async fn registration_reports_every_failing_field() {
    let app = TestApp::new().await;
    let response = app
        .call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(json!({ "username": "ab", "email": "invalid-email", "password": "short" })),
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.body["message"], "Validation failed");
    let paths: Vec<&str> = response.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["username", "email", "password"]);
    assert_eq!(response.body["errors"][0]["type"], "field");
    assert_eq!(response.body["errors"][0]["location"], "body");
    assert_eq!(
        response.body["errors"][0]["msg"],
        "Username must be at least 3 characters"
    );
    assert_eq!(
        response.body["errors"][2]["value"], "",
        "a password is never echoed"
    );

    let graphql = app
        .graphql(
            "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }",
            json!({ "i": { "username": "a".repeat(31), "email": "nope", "password": "1234567",
                           "profile": { "bio": "x".repeat(501) } } }),
            None,
        )
        .await;
    assert_eq!(error_code(&graphql), "BAD_USER_INPUT");
    let fields: Vec<&str> = graphql.body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["username", "email", "password", "profile.bio"]);
}

#[tokio::test]
async fn login_issues_tokens_and_records_the_time() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let response = rest_login(&app, "ANN@example.com", PASSWORD).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    assert_eq!(response.body["message"], "Login successful");
    assert_eq!(response.body["user"]["id"], ann.id.to_string());
    let token = response.body["tokens"]["accessToken"].as_str().unwrap();
    let me = app
        .graphql_ok("{ me { username email lastLogin } }", json!({}), Some(token))
        .await;
    assert_eq!(me["me"]["username"], "ann");
    assert_eq!(me["me"]["email"], "ann@example.com");
    assert!(me["me"]["lastLogin"].is_string());

    for (email, password) in [
        ("ann@example.com", "wrongpassword"),
        ("nobody@example.com", PASSWORD),
    ] {
        let response = rest_login(&app, email, password).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.body,
            json!({ "success": false, "message": "Invalid credentials" })
        );
    }
    let graphql = app
        .graphql(
            "mutation { login(email: \"ann@example.com\", password: \"nope-nope\") { user { id } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(error_code(&graphql), "UNAUTHENTICATED");
    let payload = app
        .graphql_ok(
            "mutation($p: String!) { login(email: \"ann@example.com\", password: $p) { user { username } tokens { tokenType expiresIn accessToken refreshToken } } }",
            json!({ "p": PASSWORD }),
            None,
        )
        .await;
    assert_eq!(payload["login"]["tokens"]["tokenType"], "Bearer");
    assert_eq!(payload["login"]["tokens"]["expiresIn"], 3600);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let first = rest_refresh(&app, &ann.refresh_token).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body["success"], true);
    let second_token = first.body["tokens"]["refreshToken"].as_str().unwrap().to_owned();
    assert_ne!(second_token, ann.refresh_token);

    // The old token no longer works; presenting it revokes the new one too.
    let reuse = rest_refresh(&app, &ann.refresh_token).await;
    assert_eq!(reuse.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reuse.body["message"], "Invalid refresh token");
    let after_theft = rest_refresh(&app, &second_token).await;
    assert_eq!(after_theft.status, StatusCode::UNAUTHORIZED, "family revoked");

    let missing = app
        .call(Method::POST, "/api/auth/refresh-token", None, Some(json!({})))
        .await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.body["message"], "Refresh token required");
    let garbage = app
        .graphql(
            "mutation { refreshToken(refreshToken: \"garbage\") { accessToken } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(error_code(&garbage), "UNAUTHENTICATED");

    // Only the hash is stored.
    let mut conn = app.db.connect().await;
    use blog_gateway::db::schema::refresh_tokens;
    let hashes: Vec<String> = refresh_tokens::table
        .select(refresh_tokens::token_hash)
        .load(&mut conn)
        .await
        .unwrap();
    assert!(!hashes.contains(&second_token));
    assert!(hashes.iter().all(|h| h.len() == 64));
}

#[tokio::test]
async fn two_concurrent_refreshes_with_one_token_have_one_winner() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let (a, b) = tokio::join!(
        rest_refresh(&app, &ann.refresh_token),
        rest_refresh(&app, &ann.refresh_token)
    );
    let statuses = [a.status, b.status];
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count(),
        1,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn logout_revokes_one_token_or_all() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let second = rest_login(&app, "ann@example.com", PASSWORD).await;
    let second_refresh = second.body["tokens"]["refreshToken"].as_str().unwrap().to_owned();

    let anonymous = app
        .call(Method::POST, "/api/auth/logout", None, Some(json!({})))
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.body["message"], "Access denied. No token provided.");

    let response = app
        .call(
            Method::POST,
            "/api/auth/logout",
            Some(&ann.token),
            Some(json!({ "refreshToken": ann.refresh_token })),
        )
        .await;
    assert_eq!(
        response.body,
        json!({ "success": true, "message": "Logout successful" })
    );
    assert_eq!(
        rest_refresh(&app, &ann.refresh_token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        rest_refresh(&app, &second_refresh).await.status,
        StatusCode::OK,
        "other sessions live on"
    );

    let third = rest_login(&app, "ann@example.com", PASSWORD).await.body["tokens"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let all = app
        .graphql_ok("mutation { logout }", json!({}), Some(&ann.token))
        .await;
    assert_eq!(all["logout"], true);
    assert_eq!(
        rest_refresh(&app, &third).await.status,
        StatusCode::UNAUTHORIZED,
        "all revoked"
    );
    let anonymous = app.graphql("mutation { logout }", json!({}), None).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
}

fn forge(token: &str, edit: impl Fn(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    edit(&mut claims);
    format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    )
}

#[tokio::test]
async fn bad_tokens_fail_the_request_even_on_public_data() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = ann.token.split('.').nth(1).unwrap();
    let hs512 = {
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let key = jsonwebtoken::EncodingKey::from_secret(b"test-secret-test-secret-test-secret!");
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
            &claims,
            &key,
        )
        .unwrap()
    };
    let other_secret = {
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let key = jsonwebtoken::EncodingKey::from_secret(b"some-other-secret-entirely-xxxxxx");
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
    };
    let expired = {
        let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        claims["exp"] = json!(chrono::Utc::now().timestamp() - 10);
        let key = jsonwebtoken::EncodingKey::from_secret(b"test-secret-test-secret-test-secret!");
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
    };
    let cases = [
        (format!("{header}.{payload}."), "Invalid token."),
        (hs512, "Invalid token."),
        (other_secret, "Invalid token."),
        (
            forge(&ann.token, |c| c["role"] = json!("admin")),
            "Invalid token.",
        ),
        ("not.a.jwt".to_owned(), "Invalid token."),
        (expired, "Token expired"),
    ];
    for (token, message) in cases {
        let rest = app.get("/api/posts", Some(&token)).await;
        assert_eq!(rest.status, StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(rest.body, json!({ "success": false, "message": message }));
        let graphql = app
            .graphql("{ posts { nodes { id } } }", json!({}), Some(&token))
            .await;
        assert_eq!(graphql.status, StatusCode::UNAUTHORIZED);
        assert_eq!(error_code(&graphql), "UNAUTHENTICATED");
        assert_eq!(graphql.body["errors"][0]["message"], message);
    }
    // No token at all is anonymous.
    assert_eq!(app.get("/api/posts", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn deactivated_users_are_refused() {
    let app = TestApp::new().await;
    let admin = app.user("root", Role::Admin).await;
    let ann = app.user("ann", Role::User).await;
    let data = app
        .graphql_ok(
            "mutation($id: ID!) { setUserActive(userId: $id, active: false) { isActive } }",
            json!({ "id": ann.id }),
            Some(&admin.token),
        )
        .await;
    assert_eq!(data["setUserActive"]["isActive"], false);

    let rest = app.get("/api/users/me", Some(&ann.token)).await;
    assert_eq!(rest.status, StatusCode::UNAUTHORIZED);
    assert_eq!(rest.body["message"], "Invalid token or user not found.");
    let graphql = app.graphql("{ me { id } }", json!({}), Some(&ann.token)).await;
    assert_eq!(error_code(&graphql), "UNAUTHENTICATED");

    let login = rest_login(&app, "ann@example.com", PASSWORD).await;
    assert_eq!(login.status, StatusCode::FORBIDDEN);
    assert_eq!(
        login.body,
        json!({ "success": false, "message": "Account is deactivated" })
    );
    let graphql = app
        .graphql(
            "mutation($p: String!) { login(email: \"ann@example.com\", password: $p) { user { id } } }",
            json!({ "p": PASSWORD }),
            None,
        )
        .await;
    assert_eq!(error_code(&graphql), "FORBIDDEN");
    assert_eq!(
        rest_refresh(&app, &ann.refresh_token).await.status,
        StatusCode::UNAUTHORIZED,
        "sessions ended"
    );
}

#[tokio::test]
async fn a_password_change_ends_every_session() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let wrong = app
        .graphql(
            "mutation { changePassword(currentPassword: \"not-it-at-all\", newPassword: \"newpassword1\") }",
            json!({}),
            Some(&ann.token),
        )
        .await;
    assert_eq!(error_code(&wrong), "BAD_USER_INPUT");
    let short = app
        .graphql(
            "mutation($c: String!) { changePassword(currentPassword: $c, newPassword: \"short\") }",
            json!({ "c": PASSWORD }),
            Some(&ann.token),
        )
        .await;
    assert_eq!(
        short.body["errors"][0]["extensions"]["fields"][0]["field"],
        "newPassword"
    );
    let ok = app
        .graphql_ok(
            "mutation($c: String!) { changePassword(currentPassword: $c, newPassword: \"newpassword1\") }",
            json!({ "c": PASSWORD }),
            Some(&ann.token),
        )
        .await;
    assert_eq!(ok["changePassword"], true);
    assert_eq!(
        rest_refresh(&app, &ann.refresh_token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        rest_login(&app, "ann@example.com", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        rest_login(&app, "ann@example.com", "newpassword1").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn expired_refresh_tokens_are_purged() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let _second = rest_login(&app, "ann@example.com", PASSWORD).await;
    let mut conn = app.db.connect().await;
    use blog_gateway::db::schema::refresh_tokens;
    let count = || refresh_tokens::table.count();
    assert_eq!(count().get_result::<i64>(&mut conn).await.unwrap(), 2);
    // Age one token past its expiry: it stops working and the purge deletes only it.
    let oldest: uuid::Uuid = refresh_tokens::table
        .select(refresh_tokens::id)
        .order(refresh_tokens::created_at)
        .first(&mut conn)
        .await
        .unwrap();
    let aged = diesel::update(refresh_tokens::table.find(oldest))
        .set(refresh_tokens::expires_at.eq(chrono::Utc::now() - chrono::Duration::days(1)))
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(aged, 1);
    assert_eq!(
        rest_refresh(&app, &ann.refresh_token).await.status,
        StatusCode::UNAUTHORIZED,
        "expired"
    );
    let mut pooled = app.state.db().await.unwrap();
    let purged = blog_gateway::domain::sessions::purge_expired(&mut pooled)
        .await
        .unwrap();
    assert_eq!(purged, 1);
    assert_eq!(count().get_result::<i64>(&mut conn).await.unwrap(), 1);
}

async fn set_role(
    app: &TestApp,
    admin: &TestUser,
    user: &TestUser,
    role: &str,
) -> crate::common::TestResponse {
    app.graphql(
        "mutation($id: ID!, $role: Role!) { setUserRole(userId: $id, role: $role) { role } }",
        json!({ "id": user.id, "role": role }),
        Some(&admin.token),
    )
    .await
}

#[tokio::test]
async fn admin_operations_need_the_admin_role() {
    let app = TestApp::new().await;
    let admin = app.user("root", Role::Admin).await;
    let moderator = app.user("mod", Role::Moderator).await;
    let ann = app.user("ann", Role::User).await;

    let promoted = set_role(&app, &admin, &ann, "MODERATOR").await;
    assert_eq!(promoted.body["data"]["setUserRole"]["role"], "MODERATOR");
    for caller in [&moderator, &ann] {
        let refused = set_role(&app, caller, &admin, "USER").await;
        assert_eq!(error_code(&refused), "FORBIDDEN", "{}", caller.username);
        let list = app
            .graphql("{ users { totalCount } }", json!({}), Some(&caller.token))
            .await;
        assert_eq!(error_code(&list), "FORBIDDEN");
        let rest = app.get("/api/users", Some(&caller.token)).await;
        assert_eq!(rest.status, StatusCode::FORBIDDEN);
        assert_eq!(rest.body["message"], "Access denied. Insufficient permissions.");
    }
    let anonymous = app.graphql("{ users { totalCount } }", json!({}), None).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
    let list = app
        .graphql_ok(
            "{ users(first: 2, role: MODERATOR) { totalCount nodes { username email } } }",
            json!({}),
            Some(&admin.token),
        )
        .await;
    assert_eq!(list["users"]["totalCount"], 2);
    assert!(
        list["users"]["nodes"][0]["email"].is_string(),
        "admins see emails"
    );
    let rest = app.get("/api/users?page=1&limit=2", Some(&admin.token)).await;
    assert_eq!(rest.status, StatusCode::OK);
    assert_eq!(
        rest.body["pagination"],
        json!({ "page": 1, "limit": 2, "total": 3, "pages": 2 })
    );
}

#[tokio::test]
async fn profiles_are_updated_by_their_owner_or_an_admin() {
    let app = TestApp::new().await;
    let admin = app.user("root", Role::Admin).await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let data = app
        .graphql_ok(
            "mutation { updateProfile(input: { bio: \"Hello there\", firstName: \"Ann\" }) { fullName profile { bio firstName lastName } } }",
            json!({}),
            Some(&ann.token),
        )
        .await;
    assert_eq!(data["updateProfile"]["profile"]["bio"], "Hello there");
    assert_eq!(data["updateProfile"]["fullName"], "Ann ann");

    let rest = app
        .call(
            Method::PUT,
            &format!("/api/users/{}", ann.id),
            Some(&ann.token),
            Some(json!({ "username": "ann2", "role": "admin", "isActive": false })),
        )
        .await;
    assert_eq!(rest.status, StatusCode::OK, "{}", rest.text);
    assert_eq!(rest.body["message"], "User updated successfully");
    assert_eq!(rest.body["data"]["username"], "ann2");
    assert_eq!(rest.body["data"]["role"], "user", "unknown fields are ignored");
    assert_eq!(rest.body["data"]["isActive"], true);

    let other = app
        .call(
            Method::PUT,
            &format!("/api/users/{}", ann.id),
            Some(&bob.token),
            Some(json!({ "username": "hacked" })),
        )
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let graphql = app
        .graphql(
            "mutation($id: ID!) { updateUser(id: $id, input: { username: \"hacked\" }) { id } }",
            json!({ "id": ann.id }),
            Some(&bob.token),
        )
        .await;
    assert_eq!(error_code(&graphql), "FORBIDDEN");
    let taken = app
        .graphql(
            "mutation($id: ID!) { updateUser(id: $id, input: { username: \"bob\" }) { id } }",
            json!({ "id": ann.id }),
            Some(&admin.token),
        )
        .await;
    assert_eq!(error_code(&taken), "CONFLICT");

    // Email and lastLogin: the user and admins only.
    let public = app.get(&format!("/api/users/{}", ann.id), Some(&bob.token)).await;
    assert!(public.body["data"].get("email").is_none());
    assert!(public.body["data"].get("lastLogin").is_none());
    let own = app.get("/api/users/me", Some(&ann.token)).await;
    assert_eq!(own.body["data"]["email"], "ann@example.com");
    let gql = app
        .graphql_ok(
            "query($id: ID!) { user(id: $id) { email lastLogin } }",
            json!({ "id": ann.id }),
            Some(&bob.token),
        )
        .await;
    assert_eq!(gql["user"]["email"], Value::Null);
    let by_admin = app
        .graphql_ok(
            "query($id: ID!) { user(id: $id) { email } }",
            json!({ "id": ann.id }),
            Some(&admin.token),
        )
        .await;
    assert_eq!(by_admin["user"]["email"], "ann@example.com");
    let by_name = app
        .graphql_ok("{ user(username: \"bob\") { id } }", json!({}), None)
        .await;
    assert_eq!(by_name["user"]["id"], bob.id.to_string());
}

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
