-- Replace the whole projection with one staged from PostgreSQL, atomically, and announce it.
-- The staged hashes were written beforehand (in chunks, with a TTL in case the writer dies). The
-- swap happens only if the projection did not change since the writer read its meta before loading
-- from PostgreSQL: otherwise a change published meanwhile could be overwritten by older data, so the
-- caller loads again. Two concurrent rebuilds therefore never leave a mixed projection.
--
-- KEYS[1]  keys hash           KEYS[2]  tiers hash        KEYS[3]  meta hash
-- KEYS[4]  staged keys hash    KEYS[5]  staged tiers hash
-- KEYS[6]  changes sorted set (version → `<version>:<ms>`, the last 1000)
-- (The applied revisions, {config}:revisions, are raised beforehand by feed-raise-revisions.lua and
-- not swapped: they outlive deletions.)
-- ARGV[1]  change channel
-- ARGV[2]  epoch read before loading ('' when the meta hash was missing)
-- ARGV[3]  version read before loading ('' when missing)
-- ARGV[4]  the new epoch
-- The new epoch's version is the old one's + 1 (0 when there was none).
-- Returns  1 when swapped, 0 when the projection changed meanwhile (staged hashes are dropped)
local current = redis.call('HMGET', KEYS[3], 'epoch', 'version')
if (current[1] or '') ~= ARGV[2] or (current[2] or '') ~= ARGV[3] then
  redis.call('DEL', KEYS[4], KEYS[5])
  return 0
end

local function swap(staged, target)
  if redis.call('EXISTS', staged) == 1 then
    redis.call('RENAME', staged, target)
    redis.call('PERSIST', target)
  else
    redis.call('DEL', target)
  end
end
swap(KEYS[4], KEYS[1])
swap(KEYS[5], KEYS[2])

-- The new epoch goes on from the old one's version (0 only when Redis lost it), so a gateway's
-- tollgate_gateway_config_version does not drop back at every control plane start.
local version = 0
if current[2] then version = tonumber(current[2]) + 1 end
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], 'epoch', ARGV[4], 'version', version)
local t = redis.call('TIME')
redis.call('ZADD', KEYS[6], version, version .. ':' .. (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)))
redis.call('ZREMRANGEBYRANK', KEYS[6], 0, -1001)
redis.call('PUBLISH', ARGV[1], '{"kind":"rebuilt","epoch":' .. cjson.encode(ARGV[4]) .. ',"version":' .. version .. '}')
return 1
