//! Authentication primitives: access tokens and password hashing.

pub mod jwt;
pub mod password;
