-- How many published posts there are, in all, per category and per author, kept instead of
-- counted: the legacy list answers a total with every page, and counting every published post
-- on each request was most of its cost (Postgres at 150 % CPU at 1,000 req/s), growing with the
-- table. A total is the sum of the five category rows, or one row.
--
-- Kept by triggers on posts, in the writing transaction, so that every writer (the
-- service, `blog-gateway seed`, a bulk load in SQL) keeps them exact. A concurrent writer waits
-- on the row it changes until the first one commits; a reader sees the committed totals.
CREATE TABLE post_totals (
  category  post_category PRIMARY KEY,
  published bigint NOT NULL DEFAULT 0 CHECK (published >= 0)
);

CREATE TABLE author_post_totals (
  author_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  published bigint NOT NULL DEFAULT 0 CHECK (published >= 0)
);

-- One row per category, always there: the triggers only update them.
INSERT INTO post_totals (category, published)
SELECT c, (SELECT count(*) FROM posts WHERE is_published AND category = c)
  FROM unnest(enum_range(NULL::post_category)) AS c;

INSERT INTO author_post_totals (author_id, published)
SELECT author_id, count(*) FROM posts WHERE is_published GROUP BY author_id;

-- Adds signed per-key changes (rows of `changes`: category, author_id, n) to both tables, each in
-- key order (two writers lock the rows they share in the same order). An author's row is created
-- at its first published post; a decrement never creates one (its user may be going away in the
-- same statement, by ON DELETE CASCADE).
CREATE FUNCTION post_totals_apply(changes jsonb) RETURNS void LANGUAGE sql AS $$
  UPDATE post_totals t SET published = t.published + d.n
    FROM (SELECT (c->>'category')::post_category AS category, sum((c->>'n')::bigint) AS n
            FROM jsonb_array_elements(changes) c GROUP BY 1 ORDER BY 1) d
   WHERE t.category = d.category AND d.n <> 0;
  INSERT INTO author_post_totals AS t (author_id, published)
  SELECT (c->>'author_id')::uuid, sum((c->>'n')::bigint)
    FROM jsonb_array_elements(changes) c GROUP BY 1 HAVING sum((c->>'n')::bigint) > 0 ORDER BY 1
  ON CONFLICT (author_id) DO UPDATE SET published = t.published + EXCLUDED.published;
  UPDATE author_post_totals t SET published = t.published + d.n
    FROM (SELECT (c->>'author_id')::uuid AS author_id, sum((c->>'n')::bigint) AS n
            FROM jsonb_array_elements(changes) c GROUP BY 1 HAVING sum((c->>'n')::bigint) < 0 ORDER BY 1) d
   WHERE t.author_id = d.author_id;
$$;

CREATE FUNCTION post_totals_of_inserted_posts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM post_totals_apply(coalesce(
    (SELECT jsonb_agg(jsonb_build_object('category', category, 'author_id', author_id, 'n', 1))
       FROM new_posts WHERE is_published), '[]'));
  RETURN NULL;
END
$$;

CREATE FUNCTION post_totals_of_deleted_posts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM post_totals_apply(coalesce(
    (SELECT jsonb_agg(jsonb_build_object('category', category, 'author_id', author_id, 'n', -1))
       FROM old_posts WHERE is_published), '[]'));
  RETURN NULL;
END
$$;

CREATE FUNCTION post_totals_of_updated_post() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM post_totals_apply(
    (SELECT coalesce(jsonb_agg(c), '[]') FROM (
       SELECT jsonb_build_object('category', OLD.category, 'author_id', OLD.author_id, 'n', -1) AS c
        WHERE OLD.is_published
       UNION ALL
       SELECT jsonb_build_object('category', NEW.category, 'author_id', NEW.author_id, 'n', 1)
        WHERE NEW.is_published) s));
  RETURN NULL;
END
$$;

CREATE TRIGGER posts_totals_on_insert
  AFTER INSERT ON posts REFERENCING NEW TABLE AS new_posts
  FOR EACH STATEMENT EXECUTE FUNCTION post_totals_of_inserted_posts();

CREATE TRIGGER posts_totals_on_delete
  AFTER DELETE ON posts REFERENCING OLD TABLE AS old_posts
  FOR EACH STATEMENT EXECUTE FUNCTION post_totals_of_deleted_posts();

-- Per row, and only when a column the totals depend on changes: a statement trigger on UPDATE
-- cannot name columns when it has transition tables, and would copy every updated row on the
-- counter updates (views, likes, comments) that are most of the writes.
CREATE TRIGGER posts_totals_on_update
  AFTER UPDATE OF is_published, category, author_id ON posts
  FOR EACH ROW
  WHEN (OLD.is_published IS DISTINCT FROM NEW.is_published
        OR OLD.category IS DISTINCT FROM NEW.category
        OR OLD.author_id IS DISTINCT FROM NEW.author_id)
  EXECUTE FUNCTION post_totals_of_updated_post();
