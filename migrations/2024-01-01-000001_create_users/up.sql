CREATE TYPE user_role AS ENUM ('user', 'moderator', 'admin');

CREATE TABLE users (
  id            uuid PRIMARY KEY,
  username      text NOT NULL UNIQUE CHECK (char_length(username) BETWEEN 3 AND 30),
  email         text NOT NULL UNIQUE CHECK (email = lower(email)),
  password_hash text NOT NULL,
  role          user_role NOT NULL DEFAULT 'user',
  first_name    text,
  last_name     text,
  avatar        text,
  bio           text,
  is_active     boolean NOT NULL DEFAULT true,
  last_login    timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Keyset pagination of the admin user list (newest first, ties by id).
CREATE INDEX users_created_idx ON users (created_at DESC, id);
