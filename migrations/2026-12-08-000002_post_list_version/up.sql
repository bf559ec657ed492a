-- A number that changes whenever the order or the membership of a post list may have changed:
-- a post inserted or deleted, or an update that sets a column a list filters or sorts on. The
-- legacy list remembers where its deep pages start (the sort key at every hundredth row of a
-- list, `domain::page_marks`) for one version, and a page read from such a mark names the version
-- it was computed at, so a mark from before a change is never used (the statement finds no
-- version row and the page is read by offset instead).
--
-- Bumped by statement triggers in the writing transaction, so that a reader sees the version and
-- the rows of the same commit. Counter updates (views, likes, comments), most of the writes, do
-- not set these columns and leave it alone.
CREATE TABLE post_list_version (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  version  bigint NOT NULL DEFAULT 0
);
INSERT INTO post_list_version DEFAULT VALUES;

CREATE FUNCTION post_list_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE post_list_version SET version = version + 1;
  RETURN NULL;
END
$$;

CREATE TRIGGER posts_list_version_on_insert_or_delete
  AFTER INSERT OR DELETE OR TRUNCATE ON posts
  FOR EACH STATEMENT EXECUTE FUNCTION post_list_version_bump();

CREATE TRIGGER posts_list_version_on_update
  AFTER UPDATE OF is_published, category, author_id, tags, title, created_at, updated_at ON posts
  FOR EACH STATEMENT EXECUTE FUNCTION post_list_version_bump();
