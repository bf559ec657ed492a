DROP TRIGGER users_username_key ON users;
DROP FUNCTION users_set_username_key();
DROP INDEX users_username_key_idx;
ALTER TABLE users DROP COLUMN username_key;
DROP FUNCTION username_key(text);
