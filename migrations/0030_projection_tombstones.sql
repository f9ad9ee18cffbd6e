-- Projection entries that no row names any more: a key's secret hash before a rotation, a deleted
-- tier. The gateways' projection keeps the revision of every entry it ever applied (migration 0020),
-- so a change published before the entry was retired and delivered after it cannot bring it back.
-- If Redis loses its data, a rebuild restores those revisions from here (and from revoked keys'
-- rows), so the same holds after the loss. A stale change is minutes old at most (a publish that
-- timed out and was sent again on reconnect), so entries older than a week are of no use and are
-- pruned when new ones are written.

CREATE TABLE projection_tombstones (
  -- The projection's revision field: 'key:<sha-256 hex of the secret>' or 'tier:<name>'.
  field text PRIMARY KEY,
  revision bigint NOT NULL,
  retired_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX projection_tombstones_retired_at ON projection_tombstones (retired_at);
