-- Apply one committed change to the gateways' projection and announce it, atomically, so the
-- projection, its version and the message can never disagree. Scripts run one at a time, so
-- versions are handed out in the order changes are written, whichever control plane sends them.
--
-- KEYS[1]  projection hash to change ({config}:keys or {config}:tiers)
-- KEYS[2]  meta hash ({config}:meta: epoch, version)
-- ARGV[1]  change channel
-- ARGV[2]  kind: 'key' or 'tier'
-- ARGV[3]  id: key hash or tier name
-- ARGV[4]  JSON view, or '' to delete
-- Returns  the new version, or -1 when the meta hash is missing (Redis lost the projection: the
--          caller rebuilds it from PostgreSQL instead of writing a partial one)
local epoch = redis.call('HGET', KEYS[2], 'epoch')
if not epoch then
  return -1
end

local value = ARGV[4]
if value == '' then
  redis.call('HDEL', KEYS[1], ARGV[3])
  value = 'null'
else
  redis.call('HSET', KEYS[1], ARGV[3], value)
end

local version = redis.call('HINCRBY', KEYS[2], 'version', 1)
local message = '{"kind":' .. cjson.encode(ARGV[2]) ..
  ',"epoch":' .. cjson.encode(epoch) ..
  ',"version":' .. version ..
  ',"id":' .. cjson.encode(ARGV[3]) ..
  ',"value":' .. value .. '}'
redis.call('PUBLISH', ARGV[1], message)
return version
