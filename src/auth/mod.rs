//! Authentication: access tokens, password hashing, and who is calling.

pub mod extract;
pub mod jwt;
pub mod password;
pub mod viewer;

pub use viewer::Viewer;
