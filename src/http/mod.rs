//! HTTP plumbing shared by both doors: middleware and health.

pub mod cache;
pub mod client_ip;
pub mod health;
pub mod metrics;
pub mod middleware;
pub mod server;
