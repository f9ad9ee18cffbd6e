-- Tollgate's concurrency slots after the limiter took them: releases (a request ended, its client
-- left, its upstream failed) and renewals (a request still running after half its lease), batched
-- like checks. A slot that is never released (its gateway died) leaves its set when its lease ends.
--
-- KEYS[i]: the concurrency set of op i (all keys of one call share one hash tag on a Cluster).
-- ARGV[1]: the lease in ms; ARGV[i + 1]: op i, `r <slot>` to release or `k <slot>` to keep it one
--   more lease from now (only while it is still held: a slot already expired is not taken again).
-- Returns the number of ops that found their slot.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local leaseMs = tonumber(ARGV[1])
local found = 0
for i = 1, #KEYS do
  local op, slot = string.match(ARGV[i + 1], '^(%a) (%S+)$')
  if op == 'r' then
    found = found + redis.call('ZREM', KEYS[i], slot)
  elseif op == 'k' then
    found = found + redis.call('ZADD', KEYS[i], 'XX', 'CH', string.format('%.3f', now + leaseMs), slot)
    redis.call('PEXPIRE', KEYS[i], leaseMs * 2)
  end
end
return found
