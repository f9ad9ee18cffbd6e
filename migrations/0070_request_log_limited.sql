-- The request-log filters "limited only" and "shadow-limited only" (GET /v1/request-logs
-- limited=true, shadow_limited=true, and the admin UI). Partial indexes hold only the rows a limit
-- refused, or in shadow mode would have refused: a small share of the table, so they cost little to
-- keep, and a filtered page is a short backwards scan of one of them instead of a walk through
-- every request until enough limited ones turn up. Ending in (time, event_id) like the other
-- indexes, they serve the keyset order and the cursor. Made on the partitioned parent, so every
-- partition has them, present ones now and future ones when they are attached.
CREATE INDEX request_log_limited_time_idx ON request_log (time, event_id) WHERE limited;
CREATE INDEX request_log_shadow_limited_time_idx ON request_log (time, event_id) WHERE shadow_limited;
