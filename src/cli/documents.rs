//! `blog-gateway documents add FILE...`: registers trusted GraphQL documents (`.graphql` files,
//! or the persisted-document manifests frontend builds write: Apollo's, Relay's, graphql-codegen's),
//! and the folder of documents loaded at start (TRUSTED_DOCUMENTS_DIR).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::config::Config;
use crate::db::pool::{create_database_if_missing, redact_url, run_migrations};
use crate::domain::documents;

#[derive(Args)]
pub struct AddDocumentsArgs {
    /// GraphQL documents to register (one operation per file is the usual shape), or `.json`
    /// manifests: Apollo's `persisted-query-manifest.json`, Relay's `persisted_queries.json`,
    /// graphql-codegen's `persisted-documents.json`. A manifest's documents are registered all or
    /// none, under the ids its tool gave them.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub config: Config,
}

/// Checks a file parses as GraphQL and registers it; returns its hash.
async fn register_file(conn: &mut AsyncPgConnection, path: &Path) -> anyhow::Result<String> {
    let document = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    async_graphql::parser::parse_query(&document)
        .map_err(|e| anyhow::anyhow!("{} is not a GraphQL document: {e}", path.display()))?;
    documents::register(conn, &document)
        .await
        .map_err(|e| anyhow::anyhow!("registering {}: {e:?}", path.display()))
}

/// Checks every document of a manifest parses as GraphQL, then registers them all under their
/// ids (one transaction); returns the format and how many there were.
async fn register_manifest(
    conn: &mut AsyncPgConnection,
    path: &Path,
) -> anyhow::Result<(documents::ManifestFormat, usize)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let (format, entries) = documents::read_manifest(&text)
        .map_err(|e| anyhow::anyhow!("{} is not a persisted-document manifest: {e}", path.display()))?;
    for entry in &entries {
        async_graphql::parser::parse_query(&entry.document).map_err(|e| {
            anyhow::anyhow!(
                "{}: the document of id {:?} is not GraphQL: {e}",
                path.display(),
                entry.id
            )
        })?;
    }
    let count = entries.len();
    documents::register_manifest(conn, entries)
        .await
        .map_err(|e| anyhow::anyhow!("registering {}: {e:?}", path.display()))?;
    Ok((format, count))
}

/// Registers every given file and prints `sha256  file` for each document file, and
/// `N documents  file (format)` for each manifest.
pub async fn add_documents(args: AddDocumentsArgs) -> anyhow::Result<()> {
    let url = &args.config.database_url;
    create_database_if_missing(url).await?;
    run_migrations(url).await?;
    let mut conn = AsyncPgConnection::establish(url)
        .await
        .with_context(|| format!("connecting to {}", redact_url(url)))?;
    for path in &args.files {
        if path.extension().is_some_and(|e| e == "json") {
            let (format, count) = register_manifest(&mut conn, path).await?;
            println!("{count} documents  {} ({})", path.display(), format.name());
        } else {
            let hash = register_file(&mut conn, path).await?;
            println!("{hash}  {}", path.display());
        }
    }
    Ok(())
}

/// Registers every `*.graphql` file of `dir` (at start, when TRUSTED_DOCUMENTS_DIR is set).
pub async fn load_folder(database_url: &str, dir: &Path) -> anyhow::Result<usize> {
    let mut conn = AsyncPgConnection::establish(database_url).await?;
    let mut count = 0;
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("TRUSTED_DOCUMENTS_DIR {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "graphql") {
            register_file(&mut conn, &path).await?;
            count += 1;
        }
    }
    Ok(count)
}
