//! Every kind of error answer of both doors, as inline snapshots (issue 19: the refactors of
//! the error table are checked against them). A change here is a change of the contract: the
//! REST bodies are the legacy service's, the GraphQL ones what clients match `extensions.code`
//! against. Update with `cargo insta test --accept` only when the change is meant.

use axum::body::Body;
use axum::http::{Method, Request};
use blog_gateway::db::models::Role;
use serde_json::{Map, Value, json};

use crate::common::{PASSWORD, TestApp, TestResponse};

/// What a snapshot keeps of an answer: status, the headers a client acts on, and the body with
/// the parts that change from run to run (seconds to wait) replaced.
fn answer(response: &TestResponse) -> Value {
    let mut kept = Map::new();
    kept.insert("status".into(), json!(response.status.as_u16()));
    if let Some(retry) = response.headers.get("retry-after") {
        let seconds: u64 = retry
            .to_str()
            .unwrap()
            .parse()
            .expect("Retry-After is whole seconds");
        assert!(seconds >= 1, "Retry-After is at least 1");
        kept.insert("retry-after".into(), json!("[seconds]"));
    }
    kept.insert("body".into(), steady(response.body.clone()));
    Value::Object(kept)
}

fn steady(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| match key.as_str() {
                    "retryAfter" => {
                        assert!(value.as_u64().is_some_and(|s| s >= 1), "{value}");
                        (key, json!("[seconds]"))
                    }
                    _ => (key, steady(value)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(steady).collect()),
        Value::String(text) => {
            let seconds = regex::Regex::new(r"retry in \d+ s").unwrap();
            Value::String(seconds.replace_all(&text, "retry in [seconds] s").into_owned())
        }
        other => other,
    }
}

fn raw(method: Method, path: &str, content_type: &str, body: &'static str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn rest_error_bodies() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let post = app.post(&ann, "Ann's first post", true).await;
    let nobody = "01900000-0000-7000-8000-000000000000";
    let mut cases = Map::new();
    let mut case = |name: &str, response: TestResponse| {
        cases.insert(name.to_owned(), answer(&response));
    };
    case("unknown route", app.get("/api/nothing/here", None).await);
    case(
        "post not found",
        app.get(&format!("/api/posts/{nobody}"), None).await,
    );
    case("malformed post id", app.get("/api/posts/not-an-id", None).await);
    case(
        "no token",
        app.call(Method::POST, "/api/posts", None, Some(json!({}))).await,
    );
    case(
        "invalid token",
        app.get("/api/users/me", Some("not.a.token")).await,
    );
    case("insufficient role", app.get("/api/users", Some(&ann.token)).await);
    case(
        "someone else's post",
        app.call(
            Method::PUT,
            &format!("/api/posts/{post}"),
            Some(&bob.token),
            Some(json!({ "title": "Taken over" })),
        )
        .await,
    );
    case(
        "comment not found",
        app.call(
            Method::DELETE,
            &format!("/api/posts/{post}/comments/{nobody}"),
            Some(&ann.token),
            None,
        )
        .await,
    );
    case(
        "validation",
        app.call(
            Method::POST,
            "/api/posts",
            Some(&ann.token),
            Some(json!({ "title": "x", "content": "", "category": "Nope", "tags": "solo" })),
        )
        .await,
    );
    case(
        "malformed user id",
        app.call(
            Method::PUT,
            "/api/users/abc",
            Some(&ann.token),
            Some(json!({ "bio": "x" })),
        )
        .await,
    );
    case(
        "taken account",
        app.call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(json!({ "username": "ANN", "email": "new@example.com", "password": PASSWORD })),
        )
        .await,
    );
    case(
        "wrong password",
        app.call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({ "email": "ann@example.com", "password": "not-the-password" })),
        )
        .await,
    );
    case(
        "refresh token missing",
        app.call(Method::POST, "/api/auth/refresh", None, Some(json!({})))
            .await,
    );
    case(
        "refresh token unknown",
        app.call(
            Method::POST,
            "/api/auth/refresh",
            None,
            Some(json!({ "refreshToken": "nope" })),
        )
        .await,
    );
    case(
        "malformed JSON",
        app.send(raw(
            Method::POST,
            "/api/auth/login",
            "application/json",
            "{\"email\": ",
        ))
        .await,
    );
    case(
        "not JSON",
        app.send(raw(Method::POST, "/api/auth/login", "text/plain", "email=x"))
            .await,
    );

    let limited = TestApp::with_flags(&[
        "--rate-limit-enabled",
        "true",
        "--rate-limit-max",
        "1",
        "--auth-rate-limit-max",
        "1",
    ])
    .await;
    limited.get("/api/posts", None).await;
    case("rate limited", limited.get("/api/posts", None).await);
    let login = json!({ "email": "who@example.com", "password": "guess-guess" });
    limited
        .call(Method::POST, "/api/auth/login", None, Some(login.clone()))
        .await;
    case(
        "logins rate limited",
        limited
            .call(Method::POST, "/api/auth/login", None, Some(login))
            .await,
    );

    insta::assert_json_snapshot!(Value::Object(cases), @r#"
    {
      "comment not found": {
        "body": {
          "message": "Comment not found",
          "success": false
        },
        "status": 404
      },
      "insufficient role": {
        "body": {
          "message": "Access denied. Insufficient permissions.",
          "success": false
        },
        "status": 403
      },
      "invalid token": {
        "body": {
          "message": "Invalid token.",
          "success": false
        },
        "status": 401
      },
      "logins rate limited": {
        "body": {
          "message": "Too many requests from this IP",
          "success": false
        },
        "retry-after": "[seconds]",
        "status": 429
      },
      "malformed JSON": {
        "body": {
          "message": "Malformed JSON body",
          "success": false
        },
        "status": 400
      },
      "malformed post id": {
        "body": {
          "message": "Resource not found",
          "success": false
        },
        "status": 404
      },
      "malformed user id": {
        "body": {
          "errors": [
            {
              "location": "params",
              "msg": "Invalid user ID",
              "path": "id",
              "type": "field",
              "value": "abc"
            }
          ],
          "message": "Validation failed",
          "success": false
        },
        "status": 400
      },
      "no token": {
        "body": {
          "message": "Access denied. No token provided.",
          "success": false
        },
        "status": 401
      },
      "not JSON": {
        "body": {
          "message": "Content-Type must be application/json",
          "success": false
        },
        "status": 415
      },
      "post not found": {
        "body": {
          "message": "Post not found",
          "success": false
        },
        "status": 404
      },
      "rate limited": {
        "body": {
          "message": "Too many requests from this IP",
          "success": false
        },
        "retry-after": "[seconds]",
        "status": 429
      },
      "refresh token missing": {
        "body": {
          "message": "Refresh token required",
          "success": false
        },
        "status": 401
      },
      "refresh token unknown": {
        "body": {
          "message": "Invalid refresh token",
          "success": false
        },
        "status": 401
      },
      "someone else's post": {
        "body": {
          "message": "Not authorized to update this post",
          "success": false
        },
        "status": 403
      },
      "taken account": {
        "body": {
          "message": "User already exists with this email or username",
          "success": false
        },
        "status": 400
      },
      "unknown route": {
        "body": {
          "message": "Route not found",
          "success": false
        },
        "status": 404
      },
      "validation": {
        "body": {
          "errors": [
            {
              "location": "body",
              "msg": "Tags must be an array",
              "path": "tags",
              "type": "field",
              "value": "solo"
            },
            {
              "location": "body",
              "msg": "Invalid category",
              "path": "category",
              "type": "field",
              "value": "Nope"
            },
            {
              "location": "body",
              "msg": "Title must be between 5 and 200 characters",
              "path": "title",
              "type": "field",
              "value": "x"
            },
            {
              "location": "body",
              "msg": "Content is required",
              "path": "content",
              "type": "field",
              "value": ""
            }
          ],
          "message": "Validation failed",
          "success": false
        },
        "status": 400
      },
      "wrong password": {
        "body": {
          "message": "Invalid credentials",
          "success": false
        },
        "status": 401
      }
    }
    "#);
}

#[tokio::test]
async fn graphql_error_bodies() {
    let app = TestApp::new().await;
    let ann = app.user("ann", Role::User).await;
    let bob = app.user("bob", Role::User).await;
    let post = app.post(&ann, "Ann's first post", true).await;
    let mut cases = Map::new();
    let mut case = |name: &str, response: TestResponse| {
        cases.insert(name.to_owned(), answer(&response));
    };
    let query = |document: &str| json!({ "query": document });
    let send = |body: Value, token: Option<String>| {
        let app = &app;
        async move {
            app.call(Method::POST, "/graphql", token.as_deref(), Some(body))
                .await
        }
    };
    case("syntax error", send(query("{ posts { nodes { id }"), None).await);
    case("unknown field", send(query("{ nope }"), None).await);
    case(
        "variable missing",
        send(query("query($id: ID!) { post(id: $id) { id } }"), None).await,
    );
    case(
        "argument out of range",
        send(query("{ posts(first: 5000) { nodes { id } } }"), None).await,
    );
    case(
        "no token",
        send(query("mutation { deletePost(id: \"x\") }"), None).await,
    );
    case(
        "invalid token",
        send(query("{ me { id } }"), Some("not.a.token".to_owned())).await,
    );
    case(
        "someone else's post",
        send(
            json!({ "query": "mutation($id: ID!) { deletePost(id: $id) }", "variables": { "id": post } }),
            Some(bob.token.clone()),
        )
        .await,
    );
    case(
        "post not found",
        send(
            query("mutation { deletePost(id: \"01900000-0000-7000-8000-000000000000\") }"),
            Some(ann.token.clone()),
        )
        .await,
    );
    case(
        "validation",
        send(
            query(
                "mutation { createPost(input: { title: \"x\", content: \"\", category: TECHNOLOGY }) { id } }",
            ),
            Some(ann.token.clone()),
        )
        .await,
    );
    case(
        "taken account",
        send(
            json!({
                "query": "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }",
                "variables": { "i": { "username": "ANN", "email": "n@example.com", "password": PASSWORD } }
            }),
            None,
        )
        .await,
    );
    case(
        "too costly",
        send(
            query("{ posts(first: 100) { nodes { comments(first: 100) { nodes { id } } } } }"),
            None,
        )
        .await,
    );
    case(
        "unknown persisted query",
        send(
            json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "0".repeat(64) } } }),
            None,
        )
        .await,
    );
    case(
        "mutation over GET",
        app.get("/graphql?query=mutation%20%7B%20logout%20%7D", None)
            .await,
    );
    case(
        "malformed JSON",
        app.send(raw(Method::POST, "/graphql", "application/json", "{\"query\": "))
            .await,
    );
    case(
        "batch too large",
        send(Value::Array(vec![query("{ __typename }"); 11]), None).await,
    );

    let strict = TestApp::with_flags(&[
        "--graphql-max-depth",
        "3",
        "--graphql-max-aliases",
        "2",
        "--rate-limit-enabled",
        "true",
        "--graphql-rate-limit-points",
        "30",
    ])
    .await;
    let strict_send = |document: &str| {
        let strict = &strict;
        let body = query(document);
        async move { strict.call(Method::POST, "/graphql", None, Some(body)).await }
    };
    case(
        "too deep",
        strict_send("{ posts { nodes { author { posts { nodes { id } } } } } }").await,
    );
    case(
        "too many aliases",
        strict_send("{ a: __typename b: __typename c: __typename }").await,
    );
    strict_send("{ posts(first: 25) { nodes { id } } }").await;
    case(
        "rate limited",
        strict_send("{ posts(first: 10) { nodes { id } } }").await,
    );

    insta::assert_json_snapshot!(Value::Object(cases), @r#"
    {
      "argument out of range": {
        "body": {
          "data": null,
          "errors": [
            {
              "extensions": {
                "code": "BAD_USER_INPUT",
                "fields": [
                  {
                    "field": "first",
                    "message": "first must be between 0 and 100"
                  }
                ]
              },
              "locations": [
                {
                  "column": 3,
                  "line": 1
                }
              ],
              "message": "Validation failed: first must be between 0 and 100",
              "path": [
                "posts"
              ]
            }
          ],
          "extensions": {
            "cost": 5000
          }
        },
        "status": 200
      },
      "batch too large": {
        "body": {
          "errors": [
            {
              "extensions": {
                "code": "BAD_REQUEST"
              },
              "message": "A batch may hold at most 10 operations; this one has 11"
            }
          ]
        },
        "status": 400
      },
      "invalid token": {
        "body": {
          "errors": [
            {
              "extensions": {
                "code": "UNAUTHENTICATED"
              },
              "message": "Invalid token."
            }
          ]
        },
        "status": 401
      },
      "malformed JSON": {
        "body": {
          "errors": [
            {
              "extensions": {
                "code": "BAD_REQUEST"
              },
              "message": "Malformed JSON body: EOF while parsing a value at line 1 column 10"
            }
          ]
        },
        "status": 400
      },
      "mutation over GET": {
        "body": {
          "errors": [
            {
              "extensions": {
                "code": "BAD_REQUEST"
              },
              "message": "Mutations must be sent with POST"
            }
          ]
        },
        "status": 405
      },
      "no token": {
        "body": {
          "data": null,
          "errors": [
            {
              "extensions": {
                "code": "UNAUTHENTICATED"
              },
              "locations": [
                {
                  "column": 12,
                  "line": 1
                }
              ],
              "message": "Access denied. No token provided.",
              "path": [
                "deletePost"
              ]
            }
          ],
          "extensions": {
            "cost": 0
          }
        },
        "status": 200
      },
      "post not found": {
        "body": {
          "data": null,
          "errors": [
            {
              "extensions": {
                "code": "NOT_FOUND"
              },
              "locations": [
                {
                  "column": 12,
                  "line": 1
                }
              ],
              "message": "Post not found",
              "path": [
                "deletePost"
              ]
            }
          ],
          "extensions": {
            "cost": 0
          }
        },
        "status": 200
      },
      "rate limited": {
        "body": {
          "errors": [
            {
              "extensions": {
                "code": "RATE_LIMITED",
                "retryAfter": "[seconds]"
              },
              "message": "Rate limit exceeded: this query costs 10 of 30 points per window; retry in [seconds] s"
            }
          ]
        },
        "retry-after": "[seconds]",
        "status": 429
      },
      "someone else's post": {
        "body": {
          "data": null,
          "errors": [
            {
              "extensions": {
                "code": "FORBIDDEN"
              },
              "locations": [
                {
                  "column": 22,
                  "line": 1
                }
              ],
              "message": "Not authorized to delete this post",
              "path": [
                "deletePost"
              ]
            }
          ],
          "extensions": {
            "cost": 0
          }
        },
        "status": 200
      },
      "syntax error": {
        "body": {
          "errors": [
            {
              "extensions": {
                "code": "GRAPHQL_VALIDATION_FAILED"
              },
              "locations": [
                {
                  "column": 23,
                  "line": 1
                }
              ],
              "message": " --> 1:23\n  |\n1 | { posts { nodes { id }\n  |                       ^---\n  |\n  = expected selection"
            }
          ]
        },
        "status": 200
      },
      "taken account": {
        "body": {
          "data": null,
          "errors": [
            {
              "extensions": {
                "code": "CONFLICT"
              },
              "locations": [
                {
                  "column": 32,
                  "line": 1
                }
              ],
              "message": "User already exists with this email or username",
              "path": [
                "register"
              ]
            }
          ],
          "extensions": {
            "cost": 2
          }
        },
        "status": 200
      },
      "too costly": {
        "body": {
          "errors": [
            {
              "extensions": {
                "code": "GRAPHQL_VALIDATION_FAILED",
                "limit": "cost",
                "max": 10000,
                "value": 10100
              },
              "message": "Query cost 10100 exceeds the limit of 10000. Ask for fewer items (first/limit) or fewer nested lists."
            }
          ]
        },
        "status": 200
      },
      "too deep": {
        "body": {
          "errors": [
            {
              "extensions": {
                "code": "GRAPHQL_VALIDATION_FAILED",
                "limit": "depth",
                "max": 3,
                "value": 6
              },
              "message": "Query is nested 6 levels deep; the limit is 3. Split it into smaller queries."
            }
          ]
        },
        "status": 200
      },
      "too many aliases": {
        "body": {
          "errors": [
            {
              "extensions": {
                "code": "GRAPHQL_VALIDATION_FAILED",
                "limit": "aliases",
                "max": 2,
                "value": 3
              },
              "message": "Query has 3 aliases or root fields; the limit is 2."
            }
          ]
        },
        "status": 200
      },
      "unknown field": {
        "body": {
          "errors": [
            {
              "extensions": {
                "code": "GRAPHQL_VALIDATION_FAILED"
              },
              "locations": [
                {
                  "column": 3,
                  "line": 1
                }
              ],
              "message": "Unknown field \"nope\" on type \"Query\". Did you mean \"node\"?"
            }
          ]
        },
        "status": 200
      },
      "unknown persisted query": {
        "body": {
          "errors": [
            {
              "extensions": {
                "code": "PERSISTED_QUERY_NOT_FOUND"
              },
              "message": "PersistedQueryNotFound"
            }
          ]
        },
        "status": 200
      },
      "validation": {
        "body": {
          "data": null,
          "errors": [
            {
              "extensions": {
                "code": "BAD_USER_INPUT",
                "fields": [
                  {
                    "field": "title",
                    "message": "Title must be between 5 and 200 characters"
                  },
                  {
                    "field": "content",
                    "message": "Content is required"
                  }
                ]
              },
              "locations": [
                {
                  "column": 12,
                  "line": 1
                }
              ],
              "message": "Validation failed: Title must be between 5 and 200 characters (1 more problem in extensions.fields)",
              "path": [
                "createPost"
              ]
            }
          ],
          "extensions": {
            "cost": 1
          }
        },
        "status": 200
      },
      "variable missing": {
        "body": {
          "errors": [
            {
              "extensions": {
                "code": "GRAPHQL_VALIDATION_FAILED"
              },
              "locations": [
                {
                  "column": 7,
                  "line": 1
                }
              ],
              "message": "Variable \"$id\" of required type \"ID!\" was not provided."
            }
          ]
        },
        "status": 200
      }
    }
    "#);
}
