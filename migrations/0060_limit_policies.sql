-- Limit policies: GCRA beside the two sliding windows; a tier's time zone (for its day and month
-- windows), mode (shadow: evaluate, count, never refuse), concurrency cap and per-route limits; and
-- a key's own mode, overriding its tier's. Existing tiers keep today's behaviour: UTC, enforce, no
-- cap, no route limits.
alter table tiers drop constraint tiers_algorithm_check;
alter table tiers add constraint tiers_algorithm_check
  check (algorithm in ('sliding_window', 'sliding_log', 'gcra'));
alter table tiers add column timezone text not null default 'UTC';
alter table tiers add column mode text not null default 'enforce'
  constraint tiers_mode_check check (mode in ('enforce', 'shadow'));
alter table tiers add column concurrency integer
  constraint tiers_concurrency_check check (concurrency >= 1);
alter table tiers add column route_limits jsonb;
alter table api_keys add column mode text
  constraint api_keys_mode_check check (mode in ('enforce', 'shadow'));
