CREATE TABLE trusted_documents (
  sha256     text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  document   text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
