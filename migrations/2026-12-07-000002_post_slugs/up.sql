-- Slugs and publication times (issue 20), kept by the database so that every writer (the
-- gateway, the benchmark's seed.sql, a hand-run INSERT) gets them.

-- The slug of a title: lowercase ASCII words joined by hyphens, accents dropped, at most 80
-- characters, `post` when nothing is left.
CREATE FUNCTION slugify(title text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN coalesce(
    nullif(
      trim(BOTH '-' FROM left(
        regexp_replace(
          lower(regexp_replace(normalize(title, NFKD), '[\u0300-\u036f]', '', 'g')),
          '[^a-z0-9]+', '-', 'g'),
        80)),
      ''),
    'post');

-- A slug for a new post: its title's, or with a short suffix from its id when that is taken
-- (longer suffixes if even that is). Inserts of titles in the same one of 16 buckets wait for
-- each other, so two of them never pick the same slug (a bucket, not a lock per title: one
-- transaction inserting thousands of posts would run out of lock slots).
CREATE FUNCTION post_slug(title text, post_id uuid) RETURNS text
  LANGUAGE plpgsql AS $$
DECLARE
  base text := slugify(title);
  candidate text := base;
  suffix int := 6;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('post_slug'), abs(hashtext(base) % 16));
  WHILE EXISTS (SELECT 1 FROM posts WHERE slug = candidate) LOOP
    candidate := base || '-' || left(replace(post_id::text, '-', ''), suffix);
    suffix := suffix + 4;
    IF suffix > 32 THEN
      candidate := base || '-' || replace(gen_random_uuid()::text, '-', '');
    END IF;
  END LOOP;
  RETURN candidate;
END
$$;

ALTER TABLE posts ADD COLUMN slug text, ADD COLUMN published_at timestamptz;
-- Before the backfill, so that each slug's lookup is an index probe (NULLs do not collide).
CREATE UNIQUE INDEX posts_slug_idx ON posts (slug);

-- Existing posts, oldest first, so that the oldest of a title keeps the plain slug; published
-- ones were published when they were written.
DO $$
DECLARE
  row record;
BEGIN
  FOR row IN SELECT id, title FROM posts ORDER BY created_at, id LOOP
    UPDATE posts SET slug = post_slug(row.title, row.id) WHERE id = row.id;
  END LOOP;
END
$$;
UPDATE posts SET published_at = created_at WHERE is_published;

ALTER TABLE posts ALTER COLUMN slug SET NOT NULL;

-- A post gets its slug when it is inserted and keeps it when its title changes; it gets its
-- publication time the first time it is published (an insert as published: its creation time)
-- and keeps it when it is unpublished and published again.
CREATE FUNCTION posts_set_slug_and_published_at() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.slug IS NULL THEN
      NEW.slug := post_slug(NEW.title, NEW.id);
    END IF;
    IF NEW.is_published AND NEW.published_at IS NULL THEN
      NEW.published_at := NEW.created_at;
    END IF;
  ELSIF NEW.is_published AND NOT OLD.is_published AND NEW.published_at IS NULL THEN
    NEW.published_at := now();
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER posts_slug_and_published_at
  BEFORE INSERT OR UPDATE OF is_published ON posts
  FOR EACH ROW EXECUTE FUNCTION posts_set_slug_and_published_at();
