//! Trusted documents: the allow-list of GraphQL documents (by sha256) for the trusted-documents
//! mode. Postgres keeps them; the gateway caches them in process.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};

use crate::db::schema::trusted_documents;
use crate::error::AppResult;

/// The lowercase hex sha256 of a document, as clients send it.
pub fn sha256_hex(document: &str) -> String {
    Sha256::digest(document.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Registers a document; registering it again changes nothing. Returns its hash.
pub async fn register(conn: &mut AsyncPgConnection, document: &str) -> AppResult<String> {
    let hash = sha256_hex(document);
    diesel::insert_into(trusted_documents::table)
        .values((
            trusted_documents::sha256.eq(&hash),
            trusted_documents::document.eq(document),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(hash)
}

/// The registered document with this hash.
pub async fn find(conn: &mut AsyncPgConnection, hash: &str) -> AppResult<Option<String>> {
    Ok(trusted_documents::table
        .find(hash)
        .select(trusted_documents::document)
        .first(conn)
        .await
        .optional()?)
}
