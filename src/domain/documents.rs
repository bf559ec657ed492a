//! Trusted documents: the allow-list of GraphQL documents (by sha256) for the trusted-documents
//! mode. Postgres keeps them; the gateway caches them in process.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::schema::trusted_documents;
use crate::error::AppResult;

use crate::digest::sha256_hex;

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
