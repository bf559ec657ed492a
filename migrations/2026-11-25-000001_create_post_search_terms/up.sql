-- The newest posts holding a word, read off an index instead of ranked out of every match.
--
-- A search lists its matches newest first, but the GIN index on posts.search returns them in no
-- order: Postgres either fetches every match and sorts them, or walks all posts newest first
-- and tests each one (for 'rust' on the benchmark data: 650 rows read for 21 results). One row
-- per (word, post), indexed in the feed's order, lets a search read the newest posts holding
-- one of its words and test only those against the full query.
CREATE TABLE post_search_terms (
  post_id      uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
  lexeme       text NOT NULL,
  -- Copies of the post's, so that a page of matches is ordered and filtered inside the index.
  is_published boolean NOT NULL,
  created_at   timestamptz NOT NULL,
  PRIMARY KEY (post_id, lexeme)
);

CREATE INDEX post_search_terms_newest_idx
  ON post_search_terms (lexeme, is_published, created_at DESC, post_id);

-- Kept in step with posts by triggers, so that every writer (the service, `blog-gateway seed`,
-- a bulk load in SQL) keeps it right. Inserts are indexed per statement, which keeps bulk loads
-- to one insert; updates per row, and only when a column the terms copy changes, so that the
-- counter updates (views, likes, comments) cost nothing here.
CREATE FUNCTION post_search_terms_of_inserted_posts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO post_search_terms (post_id, lexeme, is_published, created_at)
  SELECT p.id, term.lexeme, p.is_published, p.created_at
    FROM inserted_posts p, unnest(tsvector_to_array(p.search)) AS term (lexeme);
  RETURN NULL;
END
$$;

CREATE TRIGGER posts_index_search_terms_on_insert
  AFTER INSERT ON posts REFERENCING NEW TABLE AS inserted_posts
  FOR EACH STATEMENT EXECUTE FUNCTION post_search_terms_of_inserted_posts();

CREATE FUNCTION post_search_terms_of_updated_post() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM post_search_terms WHERE post_id = OLD.id;
  INSERT INTO post_search_terms (post_id, lexeme, is_published, created_at)
  SELECT NEW.id, term.lexeme, NEW.is_published, NEW.created_at
    FROM unnest(tsvector_to_array(NEW.search)) AS term (lexeme);
  RETURN NULL;
END
$$;

CREATE TRIGGER posts_index_search_terms_on_update
  AFTER UPDATE OF title, content, is_published, created_at ON posts
  FOR EACH ROW
  WHEN (OLD.search IS DISTINCT FROM NEW.search
        OR OLD.is_published IS DISTINCT FROM NEW.is_published
        OR OLD.created_at IS DISTINCT FROM NEW.created_at)
  EXECUTE FUNCTION post_search_terms_of_updated_post();

INSERT INTO post_search_terms (post_id, lexeme, is_published, created_at)
SELECT p.id, term.lexeme, p.is_published, p.created_at
  FROM posts p, unnest(tsvector_to_array(p.search)) AS term (lexeme);
