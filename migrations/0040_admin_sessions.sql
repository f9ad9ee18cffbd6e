-- Server-side sessions of the admin web UI (admin_users itself is in 0001). The browser's cookie
-- holds a random token; only its SHA-256 is stored here, so reading this table signs no one in.
-- A session ends when it has been idle too long (last_seen_at) or at expires_at, whichever is first.
CREATE TABLE admin_sessions (
  token_hash   text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  user_id      bigint NOT NULL REFERENCES admin_users (id) ON DELETE CASCADE,
  created_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  -- A message for the next page only (a new key's secret after the redirect that follows its
  -- creation), encrypted with a key derived from the session token, which is not stored: the row
  -- alone cannot reveal it. Cleared when read.
  flash        text
);

CREATE INDEX admin_sessions_user_id_idx ON admin_sessions (user_id);
CREATE INDEX admin_sessions_expires_at_idx ON admin_sessions (expires_at);
