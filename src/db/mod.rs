//! Postgres access: the connection pool, migrations, the statement counter, schema and models.

pub mod first_per_key;
pub mod lsn;
pub mod models;
pub mod pool;
pub mod replicas;
pub mod schema;
pub mod sql;
pub mod statements;

pub use pool::{DbConn, DbPool, PoolError};
