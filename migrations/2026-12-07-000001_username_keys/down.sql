DROP TRIGGER users_username_key_handoff ON users;
DROP FUNCTION users_pass_username_key();
DROP INDEX users_keyless_username_idx;
DROP TRIGGER users_username_key ON users;
DROP FUNCTION users_set_username_key();
DROP INDEX users_username_key_idx;
ALTER TABLE users DROP COLUMN username_key;
DROP FUNCTION username_key(text);
