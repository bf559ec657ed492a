//! The integration tests: one binary, every test against real Postgres through the real router.

mod common;

mod auth;
mod foundation;
mod graphql_http;
mod graphql_mutations;
mod graphql_posts;
mod ratelimit;
