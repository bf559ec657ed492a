DROP TABLE trusted_document_ids;
