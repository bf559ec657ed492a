//! The integration tests: one binary, every test against real Postgres through the real router.

mod checker;
mod common;

mod attacks;
mod audit;
mod auth;
mod authorization;
mod bad_input;
mod browser;
mod cli;
mod clients;
mod error_bodies;
mod execution;
mod federation;
mod foundation;
mod fuzz;
mod graphql_http;
mod hardening;
mod hostile;
mod likes_and_comments;
mod lists;
mod nodes;
mod openapi;
mod ordering;
mod persisted;
mod posts;
mod random_documents;
mod ratelimit;
mod replicas;
mod scale_out;
mod search;
mod spec;
mod subscriptions;
mod telemetry;
mod transports;
mod ws_protocol;
