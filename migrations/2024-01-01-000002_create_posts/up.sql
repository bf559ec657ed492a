CREATE TYPE post_category AS ENUM ('technology', 'lifestyle', 'business', 'health', 'education');

CREATE TABLE posts (
  id             uuid PRIMARY KEY,
  author_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title          text NOT NULL,
  content        text NOT NULL,
  category       post_category NOT NULL,
  tags           text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 10),
  is_published   boolean NOT NULL DEFAULT false,
  views          bigint NOT NULL DEFAULT 0 CHECK (views >= 0),
  likes_count    integer NOT NULL DEFAULT 0 CHECK (likes_count >= 0),
  comments_count integer NOT NULL DEFAULT 0 CHECK (comments_count >= 0),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  search         tsvector GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || content)) STORED,
  -- The legacy popularity score, stored so that "popular" is an index scan instead of a sort of every post.
  popularity     bigint GENERATED ALWAYS AS (views + 2 * likes_count + 3 * comments_count) STORED
);

CREATE INDEX posts_published_created_idx ON posts (is_published, created_at DESC, id);
CREATE INDEX posts_published_updated_idx ON posts (is_published, updated_at DESC, id);
CREATE INDEX posts_published_title_idx ON posts (is_published, title, id);
CREATE INDEX posts_published_popularity_idx ON posts (is_published, popularity DESC, id);
CREATE INDEX posts_author_id_idx ON posts (author_id, created_at DESC, id);
CREATE INDEX posts_tags_gin_idx ON posts USING gin (tags);
CREATE INDEX posts_search_gin_idx ON posts USING gin (search);
