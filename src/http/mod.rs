//! HTTP plumbing shared by both doors: the caller of a request, middleware, cache, metrics and
//! health.

pub mod caller;
pub mod client_ip;
pub mod health;
pub mod metrics;
pub mod middleware;
pub mod rest_cache;
pub mod server;
