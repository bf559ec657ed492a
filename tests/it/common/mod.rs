//! Test harness, by what it helps with: databases (`db`), the router and requests through it
//! (`app`), the spec check of every GraphQL answer (`answers`), data several features build on
//! (`fixtures`), and what runs beside a test
//! (`processes`: live servers, the binary, Redis prefixes, external tools; `postgres`: private
//! primary and replica servers; `redis_servers`: a Redis Cluster, Sentinels; `balancer`: HAProxy).

mod answers;
mod app;
mod balancer;
mod db;
mod fixtures;
mod postgres;
mod processes;
mod redis_servers;

pub use answers::*;
pub use app::*;
pub use balancer::*;
pub use db::*;
pub use fixtures::*;
pub use postgres::*;
pub use processes::*;
pub use redis_servers::*;
