//! The real router over a test database, and requests through it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use blog_gateway::config::Config;
use blog_gateway::db::models::Role;
use blog_gateway::db::statements::StatementCounts;
use blog_gateway::graphql::runtime::Gateway;
use blog_gateway::state::AppState;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

use super::answers::{Served, check_answer, check_get_answer};
use super::db::{TestDb, test_config};

/// The password of every user the helpers create.
pub const PASSWORD: &str = "password123";

static CLIENT_ADDRESS: AtomicU64 = AtomicU64::new(1);

/// The real router and state over a test database.
pub struct TestApp {
    pub db: std::sync::Arc<TestDb>,
    pub state: AppState,
    /// The GraphQL runtime the router serves (execution turns, schema).
    pub gateway: Gateway,
    router: Router,
}

/// A response with its body parsed as JSON (or `Value::String` when it is not JSON).
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestResponse {
    /// The ids of a legacy list's `data` items, in order.
    pub fn data_ids(&self) -> Vec<&str> {
        self.body["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|item| item["id"].as_str().expect("an id"))
            .collect()
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_flags(&[]).await
    }

    pub async fn with_flags(flags: &[&str]) -> Self {
        let db = TestDb::new().await;
        let config = test_config(&db.url, flags);
        Self::with_config(db, config).await
    }

    pub async fn with_config(db: TestDb, config: Config) -> Self {
        Self::on_database(std::sync::Arc::new(db), config).await
    }

    /// Another gateway instance over the same database (with its own configuration).
    pub async fn another_instance(&self, flags: &[&str]) -> TestApp {
        Self::on_database(self.db.clone(), test_config(&self.db.url, flags)).await
    }

    /// An instance over a database that other instances may share.
    pub async fn on_shared_database(db: std::sync::Arc<TestDb>, config: Config) -> Self {
        Self::on_database(db, config).await
    }

    async fn on_database(db: std::sync::Arc<TestDb>, config: Config) -> Self {
        let state = blog_gateway::build_state(config).await.expect("state builds");
        // A distinct client address per app keeps per-IP limits of parallel tests apart.
        let n = CLIENT_ADDRESS.fetch_add(1, Ordering::Relaxed);
        let address = SocketAddr::from(([10, 0, (n / 250) as u8, (n % 250) as u8 + 1], 40000));
        let gateway = Gateway::new(state.clone());
        let router = blog_gateway::app::build_app_with(gateway.clone()).layer(MockConnectInfo(address));
        Self {
            db,
            state,
            gateway,
            router,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(text.clone()));
        TestResponse {
            status,
            headers,
            body,
            text,
        }
    }

    /// A request with an optional JSON body and bearer token.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        self.call_with(method, path, token, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let get_query = (method == Method::GET).then(|| path.to_owned());
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            builder = builder.header(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let graphql_request = (path == "/graphql" || path.starts_with("/graphql?")).then(|| body.clone());
        let request = match body {
            Some(body) => builder
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => builder.body(Body::empty()),
        }
        .unwrap();
        let response = self.send(request).await;
        let served = if self.state.config().federation {
            Served::Federated
        } else {
            Served::Public
        };
        match (graphql_request, get_query) {
            (Some(_), Some(path)) => check_get_answer(served, &path, &response),
            (Some(Some(body)), None) => check_answer(served, &body, &response),
            _ => {}
        }
        response
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.call(Method::GET, path, token, None).await
    }

    /// POSTs a GraphQL document.
    pub async fn graphql(&self, query: &str, variables: Value, token: Option<&str>) -> TestResponse {
        self.call(
            Method::POST,
            "/graphql",
            token,
            Some(json!({ "query": query, "variables": variables })),
        )
        .await
    }

    /// Runs a GraphQL document and returns its `data`, failing on any error.
    pub async fn graphql_ok(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let response = self.graphql(query, variables, token).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        assert!(
            response.body.get("errors").is_none(),
            "unexpected errors: {}",
            response.text
        );
        response.body["data"].clone()
    }

    /// Statement counts of one request.
    pub async fn count_statements<F: std::future::Future<Output = TestResponse>>(
        &self,
        request: F,
    ) -> (TestResponse, StatementCounts) {
        self.state.statements().reset();
        let response = request.await;
        (response, self.state.statements().snapshot())
    }

    /// `POST /api/auth/login` with [`PASSWORD`].
    pub async fn login(&self, email: &str) -> TestResponse {
        self.call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({ "email": email, "password": PASSWORD })),
        )
        .await
    }

    /// Registers a user through the service layer and returns (id, access token, refresh token).
    pub async fn user(&self, username: &str, role: Role) -> TestUser {
        let response = self
            .call(
                Method::POST,
                "/api/auth/register",
                None,
                Some(json!({ "username": username, "email": format!("{username}@example.com"), "password": PASSWORD,
                              "profile": { "firstName": "Test", "lastName": username } })),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        let id: Uuid = response.body["user"]["id"].as_str().unwrap().parse().unwrap();
        if role != Role::User {
            let mut conn = self.db.connect().await;
            use blog_gateway::db::schema::users;
            diesel::update(users::table.find(id))
                .set(users::role.eq(role))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        TestUser {
            id,
            username: username.to_owned(),
            token: response.body["tokens"]["accessToken"]
                .as_str()
                .unwrap()
                .to_owned(),
            refresh_token: response.body["tokens"]["refreshToken"]
                .as_str()
                .unwrap()
                .to_owned(),
        }
    }

    /// Adds a comment through GraphQL and returns its id.
    pub async fn comment(&self, author: &TestUser, post_id: &str, content: &str) -> String {
        let data = self
            .graphql_ok(
                "mutation($p: ID!, $c: String!) { addComment(postId: $p, content: $c) { id } }",
                json!({ "p": post_id, "c": content }),
                Some(&author.token),
            )
            .await;
        data["addComment"]["id"].as_str().unwrap().to_owned()
    }

    /// Creates a post through GraphQL and returns its id.
    pub async fn post(&self, author: &TestUser, title: &str, published: bool) -> String {
        let data = self
            .graphql_ok(
                "mutation($input: CreatePostInput!) { createPost(input: $input) { id } }",
                json!({ "input": { "title": title, "content": format!("{title}: some body text long enough."),
                                   "category": "TECHNOLOGY", "tags": ["rust"], "isPublished": published } }),
                Some(&author.token),
            )
            .await;
        data["createPost"]["id"].as_str().unwrap().to_owned()
    }
}

pub struct TestUser {
    pub id: Uuid,
    pub username: String,
    pub token: String,
    pub refresh_token: String,
}
