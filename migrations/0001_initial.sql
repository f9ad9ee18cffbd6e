-- Tiers, API keys, the audit log and admin users: the control plane's source of truth.
-- request_log belongs to a later migration.

CREATE TABLE tiers (
  name        text PRIMARY KEY,
  description text,
  limits      jsonb NOT NULL,
  algorithm   text NOT NULL DEFAULT 'sliding_window'
              CHECK (algorithm IN ('sliding_window', 'sliding_log')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- secret_hash is the SHA-256 (hex) of the secret; the secret itself is never stored.
-- ON DELETE RESTRICT: a tier cannot disappear from under its keys (revoked ones included,
-- they keep their history).
CREATE TABLE api_keys (
  id           text PRIMARY KEY,
  name         text NOT NULL,
  tier         text NOT NULL REFERENCES tiers (name) ON DELETE RESTRICT,
  limits       jsonb,
  active       boolean NOT NULL DEFAULT true,
  expires_at   timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz,
  secret_hash  text NOT NULL UNIQUE CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
  prefix       text NOT NULL
);

CREATE INDEX api_keys_tier_idx ON api_keys (tier);
CREATE INDEX api_keys_active_idx ON api_keys (active);
-- The list's sort order and cursor: (created_at, id) descending.
CREATE INDEX api_keys_created_at_id_idx ON api_keys (created_at DESC, id DESC);
CREATE INDEX api_keys_prefix_idx ON api_keys (prefix text_pattern_ops);
CREATE INDEX api_keys_name_idx ON api_keys (lower(name) text_pattern_ops);

-- before/after hold the API representation of the resource: never a secret or its hash.
CREATE TABLE audit_log (
  id            bigserial PRIMARY KEY,
  at            timestamptz NOT NULL DEFAULT now(),
  actor         text NOT NULL,
  action        text NOT NULL,
  resource_type text NOT NULL,
  resource_id   text NOT NULL,
  before        jsonb,
  after         jsonb
);

CREATE INDEX audit_log_resource_idx ON audit_log (resource_type, resource_id, id DESC);

-- For the admin web UI (scrypt or argon2 hashes).
CREATE TABLE admin_users (
  id            bigserial PRIMARY KEY,
  username      text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
