-- request_log: one row per request a gateway answered, written by the control plane's log
-- writer from the gateways' event stream. Tens of millions of rows: range-partitioned by day (UTC)
-- on `time`, so retention drops whole partitions instead of deleting rows.
--
-- Idempotency: PostgreSQL requires the partition key in every unique constraint, so the key is
-- (time, event_id). An event keeps its time when it is redelivered, so
-- INSERT … ON CONFLICT (time, event_id) DO NOTHING turns a redelivery into a no-op.

CREATE TABLE request_log (
  time        timestamptz NOT NULL,
  event_id    text NOT NULL,
  key_id      text,
  tier        text,
  route       text,
  method      text NOT NULL,
  status      smallint NOT NULL,
  duration_ms real NOT NULL,
  limited     boolean NOT NULL DEFAULT false,
  PRIMARY KEY (time, event_id)
) PARTITION BY RANGE (time);

-- One index per filter of GET /v1/request-logs, each ending in the keyset order (time, event_id)
-- so a filtered page is an index range scan read backwards. The primary key serves the unfiltered
-- list and the from/to range.
CREATE INDEX request_log_key_time_idx ON request_log (key_id, time, event_id);
CREATE INDEX request_log_status_time_idx ON request_log (status, time, event_id);
CREATE INDEX request_log_route_time_idx ON request_log (route, time, event_id);

-- Catches rows whose day has no partition yet (a clock far off, or a writer that ran before the
-- partitions were made); ensure_request_log_partitions moves them out when it creates their day.
CREATE TABLE request_log_default PARTITION OF request_log DEFAULT;

-- Creates the daily partitions request_log_YYYYMMDD for from_day..to_day (UTC days), skipping those
-- that exist. Safe to call from several control planes at once (advisory lock). Returns how many
-- partitions it created.
CREATE FUNCTION ensure_request_log_partitions(from_day date, to_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  day date := from_day;
  part text;
  lower_bound timestamptz;
  upper_bound timestamptz;
  created integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(7401523010);
  WHILE day <= to_day LOOP
    part := 'request_log_' || to_char(day, 'YYYYMMDD');
    IF to_regclass(part) IS NULL THEN
      lower_bound := day::timestamp AT TIME ZONE 'UTC';
      upper_bound := (day + 1)::timestamp AT TIME ZONE 'UTC';
      -- ATTACH refuses a range the default partition already holds rows for: move them first.
      EXECUTE format('CREATE TABLE %I (LIKE request_log INCLUDING DEFAULTS)', part);
      EXECUTE format(
        'WITH moved AS (DELETE FROM request_log_default WHERE time >= %L AND time < %L RETURNING *) '
        'INSERT INTO %I SELECT * FROM moved',
        lower_bound, upper_bound, part);
      EXECUTE format('ALTER TABLE request_log ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
        part, lower_bound, upper_bound);
      created := created + 1;
    END IF;
    day := day + 1;
  END LOOP;
  RETURN created;
END
$$;

-- Drops the daily partitions that end at or before `cutoff` (retention). Rows of the partition that
-- straddles the cutoff are the caller's to delete. Returns how many partitions it dropped.
CREATE FUNCTION drop_request_log_partitions_before(cutoff timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  part record;
  dropped integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(7401523010);
  FOR part IN
    SELECT child.relname AS name
    FROM pg_inherits
    JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
    JOIN pg_class child ON child.oid = pg_inherits.inhrelid
    WHERE parent.relname = 'request_log' AND child.relname ~ '^request_log_[0-9]{8}$'
  LOOP
    IF ((to_date(substr(part.name, 13), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC') <= cutoff THEN
      EXECUTE format('DROP TABLE %I', part.name);
      dropped := dropped + 1;
    END IF;
  END LOOP;
  RETURN dropped;
END
$$;

SELECT ensure_request_log_partitions(
  ((now() AT TIME ZONE 'UTC')::date - 1),
  ((now() AT TIME ZONE 'UTC')::date + 7)
);
