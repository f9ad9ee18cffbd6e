-- Apply one committed change to the gateways' projection and announce it, atomically, so the
-- projection, its version and the message can never disagree. Scripts run one at a time, so
-- versions are handed out in the order changes are written, whichever control plane sends them.
-- A change whose row revision is not above the one already applied for that row was committed
-- before it (it reached Redis out of order): it is dropped, so it cannot undo the newer change.
--
-- KEYS[1]  projection hash to change ({config}:keys or {config}:tiers)
-- KEYS[2]  meta hash ({config}:meta: epoch, version)
-- KEYS[3]  revisions hash ({config}:revisions: kind:id → highest revision applied)
-- KEYS[4]  changes sorted set ({config}:changes: version → `<version>:<ms>`, the last 1000)
-- ARGV[1]  change channel
-- ARGV[2]  kind: 'key' or 'tier'
-- ARGV[3]  id: key hash or tier name
-- ARGV[4]  JSON view, or '' to delete
-- ARGV[5]  the row's revision after the change
-- Returns  the new version; -1 when the meta hash is missing (Redis lost the projection: the
--          caller rebuilds it from PostgreSQL instead of writing a partial one); -2 when the change
--          is older than the projection's (nothing written, nothing published)
local epoch = redis.call('HGET', KEYS[2], 'epoch')
if not epoch then
  return -1
end

local field = ARGV[2] .. ':' .. ARGV[3]
local revision = tonumber(ARGV[5])
local applied = tonumber(redis.call('HGET', KEYS[3], field))
if applied and applied >= revision then
  return -2
end
redis.call('HSET', KEYS[3], field, ARGV[5])

local value = ARGV[4]
if value == '' then
  redis.call('HDEL', KEYS[1], ARGV[3])
  value = 'null'
else
  redis.call('HSET', KEYS[1], ARGV[3], value)
end

local version = redis.call('HINCRBY', KEYS[2], 'version', 1)
local t = redis.call('TIME')
redis.call('ZADD', KEYS[4], version, version .. ':' .. (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)))
redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -1001)
local message = '{"kind":' .. cjson.encode(ARGV[2]) ..
  ',"epoch":' .. cjson.encode(epoch) ..
  ',"version":' .. version ..
  ',"id":' .. cjson.encode(ARGV[3]) ..
  ',"value":' .. value .. '}'
redis.call('PUBLISH', ARGV[1], message)
return version
