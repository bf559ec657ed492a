//! Trusted documents: the allow-list of GraphQL documents for the trusted-documents mode, and the
//! ids frontend builds give them. Postgres keeps them; the gateway caches them in process.
//!
//! A document is stored once, by the sha256 of its text. The persisted-document manifests that
//! frontend tools write name each document with an id of their own (Apollo's sha256, Relay's md5,
//! graphql-codegen's sha1, ...): those ids are kept beside it, so a client that sends only the id
//! its build knows finds the document.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::db::schema::{trusted_document_ids, trusted_documents};
use crate::digest::{as_sha256_hex, sha256_hex};
use crate::error::{AppError, AppResult};

/// The `format` of Apollo's persisted query manifest (`@apollo/generate-persisted-query-manifest`).
const APOLLO_MANIFEST_FORMAT: &str = "apollo-persisted-query-manifest";
/// Longest id a manifest may give a document (the column's check).
pub const MAX_ID_LENGTH: usize = 200;

/// One document of a manifest, with the id its tool gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    pub id: String,
    pub document: String,
}

/// Which tool wrote a manifest (what `documents add` reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestFormat {
    /// `{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{id, body, ..}]}`.
    Apollo,
    /// `{"<id>": "<document>", ...}`: Relay's `persisted_queries.json` and graphql-codegen's
    /// `persisted-documents.json`.
    IdMap,
}

impl ManifestFormat {
    pub fn name(self) -> &'static str {
        match self {
            ManifestFormat::Apollo => "Apollo persisted query manifest",
            ManifestFormat::IdMap => "id -> document map (Relay, graphql-codegen)",
        }
    }
}

/// Reads a persisted-document manifest: Apollo's, or the `{id: document}` map Relay and
/// graphql-codegen write. The message of an error says what is wrong with the file.
pub fn read_manifest(json: &str) -> Result<(ManifestFormat, Vec<ManifestEntry>), String> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let object = value
        .as_object()
        .ok_or("a manifest is a JSON object (Apollo's manifest, or a map of id to document)")?;
    let (format, entries) = match object.get("format") {
        Some(format) if format.as_str() == Some(APOLLO_MANIFEST_FORMAT) => {
            if object.get("version").and_then(serde_json::Value::as_i64) != Some(1) {
                return Err(format!(
                    "only version 1 of the {APOLLO_MANIFEST_FORMAT} format is known"
                ));
            }
            let operations = object
                .get("operations")
                .and_then(serde_json::Value::as_array)
                .ok_or("an Apollo manifest lists its documents in `operations`")?;
            let entries = operations
                .iter()
                .enumerate()
                .map(|(at, operation)| {
                    let text = |key: &str| {
                        operation
                            .get(key)
                            .and_then(serde_json::Value::as_str)
                            .map(str::to_owned)
                            .ok_or(format!("operations[{at}] has no string `{key}`"))
                    };
                    Ok(ManifestEntry {
                        id: text("id")?,
                        document: text("body")?,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            (ManifestFormat::Apollo, entries)
        }
        Some(format) if format.is_string() => {
            return Err(format!(
                "unknown manifest format {format} (known: \"{APOLLO_MANIFEST_FORMAT}\", or a map of id to document)"
            ));
        }
        _ => {
            let entries = object
                .iter()
                .map(|(id, document)| {
                    let document = document
                        .as_str()
                        .ok_or(format!("the value of {id:?} is not a document (a string)"))?;
                    Ok(ManifestEntry {
                        id: id.clone(),
                        document: document.to_owned(),
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            (ManifestFormat::IdMap, entries)
        }
    };
    if entries.is_empty() {
        return Err("the manifest lists no documents".to_owned());
    }
    if let Some(entry) = entries
        .iter()
        .find(|entry| entry.id.is_empty() || entry.id.len() > MAX_ID_LENGTH)
    {
        return Err(format!(
            "the id {:?} is empty or longer than {MAX_ID_LENGTH} characters",
            entry.id
        ));
    }
    // An id in the form of a sha256 must be its document's: clients send such ids as hashes too.
    if let Some(entry) = entries.iter().find(|entry| {
        let hex = entry.id.strip_prefix("sha256:").unwrap_or(&entry.id);
        as_sha256_hex(hex).is_some_and(|hash| hash != sha256_hex(&entry.document))
    }) {
        return Err(format!(
            "the id {:?} has the form of a sha256 but is not the sha256 of its document",
            entry.id
        ));
    }
    Ok((format, entries))
}

/// Registers a document; registering it again changes nothing. Returns its sha256.
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

/// Registers the documents of a manifest under their ids, all or none (one transaction).
/// Registering a manifest again changes nothing; an id that already names another document is
/// refused. Returns each entry's sha256, in order.
pub async fn register_manifest(
    conn: &mut AsyncPgConnection,
    entries: Vec<ManifestEntry>,
) -> AppResult<Vec<String>> {
    conn.transaction(async move |conn| {
        let mut hashes = Vec::with_capacity(entries.len());
        let mut wanted: BTreeMap<&str, &str> = BTreeMap::new();
        for entry in &entries {
            hashes.push(register(conn, &entry.document).await?);
        }
        for (entry, hash) in entries.iter().zip(&hashes) {
            if let Some(other) = wanted.insert(&entry.id, hash)
                && other != hash
            {
                return Err(id_taken(&entry.id));
            }
        }
        let rows: Vec<_> = wanted
            .iter()
            .map(|(id, hash)| {
                (
                    trusted_document_ids::id.eq(*id),
                    trusted_document_ids::sha256.eq(*hash),
                )
            })
            .collect();
        diesel::insert_into(trusted_document_ids::table)
            .values(rows)
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        let stored: Vec<(String, String)> = trusted_document_ids::table
            .filter(trusted_document_ids::id.eq_any(wanted.keys().copied()))
            .select((trusted_document_ids::id, trusted_document_ids::sha256))
            .load(conn)
            .await?;
        if let Some((id, _)) = stored
            .iter()
            .find(|(id, hash)| wanted.get(id.as_str()) != Some(&hash.as_str()))
        {
            return Err(id_taken(id));
        }
        Ok(hashes)
    })
    .await
}

fn id_taken(id: &str) -> AppError {
    AppError::Internal(anyhow::anyhow!(
        "the id {id:?} already names another document; a build must give each document its own id"
    ))
}

/// The registered document with this sha256.
pub async fn find(conn: &mut AsyncPgConnection, hash: &str) -> AppResult<Option<String>> {
    Ok(trusted_documents::table
        .find(hash)
        .select(trusted_documents::document)
        .first(conn)
        .await
        .optional()?)
}

/// The registered document a manifest named `id`.
pub async fn find_by_id(conn: &mut AsyncPgConnection, id: &str) -> AppResult<Option<String>> {
    Ok(trusted_document_ids::table
        .inner_join(trusted_documents::table)
        .filter(trusted_document_ids::id.eq(id))
        .select(trusted_documents::document)
        .first(conn)
        .await
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_three_manifest_formats() {
        let apollo = r#"{"format":"apollo-persisted-query-manifest","version":1,
            "operations":[{"id":"abc","name":"Feed","type":"query","body":"query Feed { posts { totalCount } }"}]}"#;
        let (format, entries) = read_manifest(apollo).unwrap();
        assert_eq!(format, ManifestFormat::Apollo);
        assert_eq!(entries[0].id, "abc");
        assert_eq!(entries[0].document, "query Feed { posts { totalCount } }");
        let map =
            r#"{"5d41402abc4b2a76b9719d911017c592":"query A { __typename }","b":"query B { __typename }"}"#;
        let (format, entries) = read_manifest(map).unwrap();
        assert_eq!(format, ManifestFormat::IdMap);
        assert_eq!(entries.len(), 2);
    }

    #[test]
    fn refuses_what_is_no_manifest_with_a_reason() {
        for (json, says) in [
            ("[]", "JSON object"),
            ("{}", "no documents"),
            (r#"{"a": 1}"#, "not a document"),
            (
                r#"{"format":"apollo-persisted-query-manifest","version":2,"operations":[]}"#,
                "version 1",
            ),
            (
                r#"{"format":"apollo-persisted-query-manifest","version":1}"#,
                "operations",
            ),
            (r#"{"format":"something-else"}"#, "unknown manifest format"),
            (r#"{"":"query { __typename }"}"#, "empty"),
            (
                r#"{"sha256:0000000000000000000000000000000000000000000000000000000000000000":"query { __typename }"}"#,
                "not the sha256 of its document",
            ),
        ] {
            let error = read_manifest(json).unwrap_err();
            assert!(error.contains(says), "{json}: {error}");
        }
    }
}
