//! HTTP plumbing shared by both doors: middleware and health.

pub mod health;
pub mod middleware;
