//! blog-gateway: a GraphQL gateway (and legacy REST compatibility layer) over a blog domain.
//!
//! Two front doors, `/graphql` and `/api/...`, share one service layer (`domain`) over Postgres.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod digest;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod memory_cache;
pub mod ratelimit;
pub mod redis_link;
pub mod response_cache;
pub mod rest;
pub mod state;
pub mod telemetry;

pub use app::{build_app, build_state};
