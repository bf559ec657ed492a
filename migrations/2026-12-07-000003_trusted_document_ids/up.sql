-- The ids a frontend build's persisted-document manifest gives its documents (Apollo's sha256,
-- Relay's md5, graphql-codegen's sha1, or any string the tool wrote), each naming one trusted
-- document. A document may have several ids (one per manifest that lists it).
CREATE TABLE trusted_document_ids (
    id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
    sha256 TEXT NOT NULL REFERENCES trusted_documents (sha256),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX trusted_document_ids_sha256 ON trusted_document_ids (sha256);
