DROP TRIGGER posts_slug_and_published_at ON posts;
DROP FUNCTION posts_set_slug_and_published_at();
DROP INDEX posts_slug_idx;
ALTER TABLE posts DROP COLUMN slug, DROP COLUMN published_at;
DROP FUNCTION post_slug(text, uuid);
DROP FUNCTION slugify(text);
