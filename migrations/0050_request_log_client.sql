-- Who a request came from and why it was refused: the client address the gateway derived (socket
-- peer, or X-Forwarded-For from a trusted proxy), the name of the limit that refused it (as in its
-- RateLimit header items), and whether a shadow-mode limit would have refused it. Added to the
-- partitioned parent, so every partition, present and future, has them.
alter table request_log add column client_ip inet;
alter table request_log add column limited_by text;
alter table request_log add column shadow_limited boolean not null default false;
