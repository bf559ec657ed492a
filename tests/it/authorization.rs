//! The authorization matrix: every mutation and protected route, for every kind of caller, with
//! the outcome each must get; and no answer ever carries a password or refresh-token hash.

use axum::http::{Method, StatusCode};
use blog_gateway::db::models::Role;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::common::{TestApp, TestResponse, TestUser};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Actor {
    Anonymous,
    Owner,
    Other,
    Moderator,
    Admin,
    Deactivated,
}

const ACTORS: [Actor; 6] = [
    Actor::Anonymous,
    Actor::Owner,
    Actor::Other,
    Actor::Moderator,
    Actor::Admin,
    Actor::Deactivated,
];

/// What a caller gets: success, or the GraphQL code / REST status of the refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Ok,
    Unauthenticated,
    Forbidden,
    NotFound,
}
use Outcome::*;

struct World {
    app: TestApp,
    owner: TestUser,
    other: TestUser,
    moderator: TestUser,
    admin: TestUser,
    deactivated: TestUser,
    responses: Vec<String>,
}

impl World {
    fn token(&self, actor: Actor) -> Option<&str> {
        match actor {
            Actor::Anonymous => None,
            Actor::Owner => Some(&self.owner.token),
            Actor::Other => Some(&self.other.token),
            Actor::Moderator => Some(&self.moderator.token),
            Actor::Admin => Some(&self.admin.token),
            Actor::Deactivated => Some(&self.deactivated.token),
        }
    }

    /// A fresh post by the owner (and a comment by the owner on it).
    async fn fixture(&self, published: bool) -> (String, String) {
        let post = self.app.post(&self.owner, "A post of the owner", published).await;
        let comment = self.app.comment(&self.owner, &post, "owner's comment").await;
        (post, comment)
    }

    async fn graphql(&mut self, actor: Actor, query: &str, variables: Value) -> Outcome {
        let response = self.app.graphql(query, variables, self.token(actor)).await;
        self.responses.push(response.text.clone());
        match response.body["errors"][0]["extensions"]["code"].as_str() {
            None => Ok,
            Some("UNAUTHENTICATED") => Unauthenticated,
            Some("FORBIDDEN") => Forbidden,
            Some("NOT_FOUND") => NotFound,
            Some(other) => panic!("unexpected code {other}: {}", response.text),
        }
    }

    async fn rest(&mut self, actor: Actor, method: Method, path: &str, body: Option<Value>) -> Outcome {
        let response: TestResponse = self.app.call(method, path, self.token(actor), body).await;
        self.responses.push(response.text.clone());
        match response.status {
            s if s.is_success() => Ok,
            StatusCode::UNAUTHORIZED => Unauthenticated,
            StatusCode::FORBIDDEN => Forbidden,
            StatusCode::NOT_FOUND => NotFound,
            other => panic!("unexpected status {other}: {}", response.text),
        }
    }
}

/// Outcomes in the order of [`ACTORS`]: anonymous, owner, other, moderator, admin, deactivated.
type Row = [Outcome; 6];

const ANY_USER: Row = [Unauthenticated, Ok, Ok, Ok, Ok, Unauthenticated];
const OWNER_OR_ADMIN: Row = [Unauthenticated, Ok, Forbidden, Forbidden, Ok, Unauthenticated];
const OWNER_OR_ADMIN_HIDDEN: Row = [Unauthenticated, Ok, NotFound, NotFound, Ok, Unauthenticated];
const OWNER_MODERATOR_OR_ADMIN: Row = [Unauthenticated, Ok, Forbidden, Ok, Ok, Unauthenticated];
const ADMIN_ONLY: Row = [
    Unauthenticated,
    Forbidden,
    Forbidden,
    Forbidden,
    Ok,
    Unauthenticated,
];

#[derive(Clone, Copy)]
enum Case {
    GraphQl(&'static str),
    Rest(&'static str, &'static str, Option<&'static str>),
}

/// The matrix: (name, operation, fixture is published, expected outcomes). In operations, `$post`,
/// `$comment` and `$user` stand for the fixture's ids.
fn matrix() -> Vec<(&'static str, Case, bool, Row)> {
    use Case::*;
    vec![
        (
            "createPost",
            GraphQl(
                "mutation { createPost(input: { title: \"New title here\", content: \"Long enough content\", category: HEALTH }) { id } }",
            ),
            true,
            ANY_USER,
        ),
        (
            "updatePost published",
            GraphQl(
                "mutation($post: ID!) { updatePost(id: $post, input: { title: \"Changed title\" }) { id } }",
            ),
            true,
            OWNER_OR_ADMIN,
        ),
        (
            "updatePost draft",
            GraphQl(
                "mutation($post: ID!) { updatePost(id: $post, input: { title: \"Changed title\" }) { id } }",
            ),
            false,
            OWNER_OR_ADMIN_HIDDEN,
        ),
        (
            "deletePost published",
            GraphQl("mutation($post: ID!) { deletePost(id: $post) }"),
            true,
            OWNER_OR_ADMIN,
        ),
        (
            "deletePost draft",
            GraphQl("mutation($post: ID!) { deletePost(id: $post) }"),
            false,
            OWNER_OR_ADMIN_HIDDEN,
        ),
        (
            "likePost",
            GraphQl("mutation($post: ID!) { likePost(id: $post) { id } }"),
            true,
            ANY_USER,
        ),
        (
            "unlikePost",
            GraphQl("mutation($post: ID!) { unlikePost(id: $post) { id } }"),
            true,
            ANY_USER,
        ),
        (
            "addComment",
            GraphQl("mutation($post: ID!) { addComment(postId: $post, content: \"hi\") { id } }"),
            true,
            ANY_USER,
        ),
        (
            "addComment on a draft",
            GraphQl("mutation($post: ID!) { addComment(postId: $post, content: \"hi\") { id } }"),
            false,
            OWNER_OR_ADMIN_HIDDEN,
        ),
        (
            "deleteComment",
            GraphQl("mutation($comment: ID!) { deleteComment(id: $comment) }"),
            true,
            OWNER_MODERATOR_OR_ADMIN,
        ),
        (
            "updateProfile",
            GraphQl("mutation { updateProfile(input: { bio: \"hello\" }) { id } }"),
            true,
            ANY_USER,
        ),
        (
            "updateUser",
            GraphQl(
                "mutation($user: ID!) { updateUser(id: $user, input: { profile: { bio: \"x\" } }) { id } }",
            ),
            true,
            OWNER_OR_ADMIN,
        ),
        (
            "setUserRole",
            GraphQl("mutation($user: ID!) { setUserRole(userId: $user, role: USER) { id } }"),
            true,
            ADMIN_ONLY,
        ),
        (
            "setUserActive",
            GraphQl("mutation($user: ID!) { setUserActive(userId: $user, active: true) { id } }"),
            true,
            ADMIN_ONLY,
        ),
        ("users", GraphQl("{ users { totalCount } }"), true, ADMIN_ONLY),
        ("logout", GraphQl("mutation { logout }"), true, ANY_USER),
        (
            "changePassword",
            GraphQl(
                "mutation { changePassword(currentPassword: \"password123\", newPassword: \"password123\") }",
            ),
            true,
            ANY_USER,
        ),
        (
            "POST /api/posts",
            Rest(
                "POST",
                "/api/posts",
                Some(r#"{"title":"New title here","content":"Long enough content","category":"health"}"#),
            ),
            true,
            ANY_USER,
        ),
        (
            "PUT /api/posts/:id",
            Rest("PUT", "/api/posts/$post", Some(r#"{"title":"Changed title"}"#)),
            true,
            OWNER_OR_ADMIN,
        ),
        (
            "PUT /api/posts/:id draft",
            Rest("PUT", "/api/posts/$post", Some(r#"{"title":"Changed title"}"#)),
            false,
            OWNER_OR_ADMIN_HIDDEN,
        ),
        (
            "DELETE /api/posts/:id",
            Rest("DELETE", "/api/posts/$post", None),
            true,
            OWNER_OR_ADMIN,
        ),
        (
            "POST comments",
            Rest("POST", "/api/posts/$post/comments", Some(r#"{"content":"hi"}"#)),
            true,
            ANY_USER,
        ),
        (
            "DELETE comment",
            Rest("DELETE", "/api/posts/$post/comments/$comment", None),
            true,
            OWNER_MODERATOR_OR_ADMIN,
        ),
        (
            "POST like",
            Rest("POST", "/api/posts/$post/like", None),
            true,
            ANY_USER,
        ),
        (
            "DELETE like",
            Rest("DELETE", "/api/posts/$post/like", None),
            true,
            ANY_USER,
        ),
        (
            "GET /api/users",
            Rest("GET", "/api/users", None),
            true,
            ADMIN_ONLY,
        ),
        (
            "GET /api/users/me",
            Rest("GET", "/api/users/me", None),
            true,
            ANY_USER,
        ),
        (
            "PUT /api/users/:id",
            Rest("PUT", "/api/users/$user", Some(r#"{"profile":{"bio":"x"}}"#)),
            true,
            OWNER_OR_ADMIN,
        ),
        (
            "POST /api/auth/logout",
            Rest("POST", "/api/auth/logout", Some("{}")),
            true,
            ANY_USER,
        ),
    ]
}

#[tokio::test]
async fn every_caller_gets_exactly_its_rights() {
    let app = TestApp::new().await;
    let owner = app.user("owner", Role::User).await;
    let other = app.user("other", Role::User).await;
    let moderator = app.user("moderator", Role::Moderator).await;
    let admin = app.user("admin", Role::Admin).await;
    let deactivated = app.user("gone", Role::User).await;
    app.graphql_ok(
        "mutation($id: ID!) { setUserActive(userId: $id, active: false) { id } }",
        json!({ "id": deactivated.id }),
        Some(&admin.token),
    )
    .await;
    let mut world = World {
        app,
        owner,
        other,
        moderator,
        admin,
        deactivated,
        responses: Vec::new(),
    };

    let mut failures = Vec::new();
    let mut cells = 0;
    for (name, case, published, expected) in matrix() {
        for (actor, want) in ACTORS.iter().zip(expected) {
            let (post, comment) = world.fixture(published).await;
            let user = world.owner.id.to_string();
            let got = match case {
                Case::GraphQl(query) => {
                    world
                        .graphql(
                            *actor,
                            query,
                            json!({ "post": post, "comment": comment, "user": user }),
                        )
                        .await
                }
                Case::Rest(method, path, body) => {
                    let path = path
                        .replace("$post", &post)
                        .replace("$comment", &comment)
                        .replace("$user", &user);
                    let body = body.map(|b| serde_json::from_str(b).unwrap());
                    world
                        .rest(
                            *actor,
                            Method::from_bytes(method.as_bytes()).unwrap(),
                            &path,
                            body,
                        )
                        .await
                }
            };
            cells += 1;
            if got != want {
                failures.push(format!("{name} as {actor:?}: expected {want:?}, got {got:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cells} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(cells, matrix().len() * ACTORS.len());

    // No answer carried a password hash or a refresh-token hash.
    let mut conn = world.app.db.connect().await;
    use blog_gateway::db::schema::{refresh_tokens, users};
    let token_hashes: Vec<String> = refresh_tokens::table
        .select(refresh_tokens::token_hash)
        .load(&mut conn)
        .await
        .unwrap();
    let password_hashes: Vec<String> = users::table
        .select(users::password_hash)
        .load(&mut conn)
        .await
        .unwrap();
    for text in &world.responses {
        assert!(!text.contains("$argon2"), "a password hash leaked: {text}");
        for hash in token_hashes.iter().chain(&password_hashes) {
            assert!(!text.contains(hash.as_str()), "a stored hash leaked: {text}");
        }
    }
}
