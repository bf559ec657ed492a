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
mod foundation;
mod fuzz;
mod graphql_http;
mod graphql_mutations;
mod graphql_posts;
mod hardening;
mod hostile;
mod openapi;
mod ordering;
mod persisted;
mod random_documents;
mod ratelimit;
mod rest;
mod scale_out;
mod search;
mod spec;
mod subscriptions;
mod transports;
mod ws_protocol;
