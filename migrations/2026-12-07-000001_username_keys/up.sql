-- Look-alike usernames (issue 18): a new username must differ from every existing one after
-- NFKC normalization and case folding ("Admin", "ADMIN" and a full-width "ａdmin" are one name).
-- The key is computed here, by the database, so that every writer (the gateway, a seed script,
-- a hand-run INSERT) stores the same key. Case folding is ICU's full upper-then-lower mapping
-- (so "ß" and "ss", "Σ" and "ς" fold together), which plain lower() under the C locale lacks.
CREATE FUNCTION username_key(name text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN normalize(lower(upper(normalize(name, NFKC) COLLATE "und-x-icu")), NFKC);

ALTER TABLE users ADD COLUMN username_key text;

-- Existing rows stay as they are: where names stored before this rule already collide, the
-- oldest holds the key and the later look-alikes keep their names without one. They still
-- block a new look-alike through the row that holds the key, and when that row takes another
-- name (or goes), the next-oldest look-alike takes the key over (the trigger below).
UPDATE users SET username_key = username_key(username)
WHERE id IN (
  SELECT DISTINCT ON (username_key(username)) id
  FROM users
  ORDER BY username_key(username), created_at, id
);

CREATE UNIQUE INDEX users_username_key_idx ON users (username_key);

-- Every insert, and every change of a name, computes the key; a name that collides is refused
-- by the unique index. Writing a row's own name again leaves its key as it was.
CREATE FUNCTION users_set_username_key() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.username IS DISTINCT FROM OLD.username THEN
    NEW.username_key := username_key(NEW.username);
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER users_username_key
  BEFORE INSERT OR UPDATE OF username ON users
  FOR EACH ROW EXECUTE FUNCTION users_set_username_key();

-- Look-alikes stored before the rule, found by their key (only those rows: the index stays small).
CREATE INDEX users_keyless_username_idx ON users (username_key(username)) WHERE username_key IS NULL;

-- When the row holding a key takes another name or is deleted, the oldest look-alike without a
-- key takes it over, so the name stays taken while any row carries it.
CREATE FUNCTION users_pass_username_key() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.username_key IS NOT NULL
     AND (TG_OP = 'DELETE' OR NEW.username_key IS DISTINCT FROM OLD.username_key) THEN
    UPDATE users SET username_key = OLD.username_key
    WHERE id = (
      SELECT id FROM users
      WHERE username_key IS NULL AND username_key(username) = OLD.username_key
      ORDER BY created_at, id
      LIMIT 1
    );
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER users_username_key_handoff
  AFTER UPDATE OF username OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION users_pass_username_key();
