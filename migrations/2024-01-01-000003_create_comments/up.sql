CREATE TABLE comments (
  id         uuid PRIMARY KEY,
  post_id    uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
  author_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  content    text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX comments_post_created_idx ON comments (post_id, created_at, id);
-- Cascading deletes of a user look comments up by author.
CREATE INDEX comments_author_id_idx ON comments (author_id);
