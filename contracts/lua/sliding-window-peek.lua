-- Tollgate limiter, read-only: what sliding-window.lua would answer for a batch of checks, without
-- consuming anything or writing any key (GET /_gateway/quota, GET /v1/keys/{id}/usage). The reads
-- and the maths are the same as in sliding-window.lua; keep the two in step (the behaviour suite
-- compares them).
--
-- KEYS, per check in order (all keys of one check share the `{<key id>}` hash tag):
--   algorithm 0 (sliding_window): one hash per limit (fields i, c, p; see sliding-window.lua).
--   algorithm 1 (sliding_log): one sorted set per limit, then the sequence counter (unused here,
--     passed so both scripts take the same KEYS).
-- ARGV: [1] number of items; then one item per run of identical checks, its integers separated by
--   spaces: algorithm (0|1), cost, limit count M, then M pairs: window ms, limit, then optionally
--   the run's length N (default 1), as in sliding-window.lua.
-- Returns one string of integers separated by spaces, per check (N per run): allowed (1|0: would `cost` be
--   admitted now; always 1 for cost 0), retry-after ms (0 when allowed), then M pairs: remaining
--   (now), reset ms.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000

local out = {}
local keyi = 1

local function counter_read(key, windowMs)
  local idx = math.floor(now / windowMs)
  local v = redis.call('HMGET', key, 'i', 'c', 'p')
  local i = tonumber(v[1])
  local c = tonumber(v[2]) or 0
  local p = tonumber(v[3]) or 0
  if i == nil then
    c, p = 0, 0
  elseif i == idx - 1 then
    p, c = c, 0
  elseif i > idx then
    idx = i
  elseif i ~= idx then
    c, p = 0, 0
  end
  local weight = 1 - (now - idx * windowMs) / windowMs
  if weight < 0 then weight = 0 elseif weight > 1 then weight = 1 end
  return idx, c, p, weight
end

local function counter_reset(idx, c, p, weight, windowMs)
  if c > 0 then return math.ceil((idx + 2) * windowMs - now) end
  if p > 0 and weight > 0 then return math.ceil((idx + 1) * windowMs - now) end
  return 0
end

local function counter_retry(idx, c, p, cost, limit, windowMs)
  if c + cost <= limit then
    return idx * windowMs + windowMs * (1 - (limit - c - cost) / p) - now
  end
  return (idx + 1) * windowMs + windowMs * (1 - (limit - cost) / c) - now
end

local function log_count(key, windowMs)
  return redis.call('ZCOUNT', key, string.format('(%.3f', now - windowMs), '+inf')
end

local function log_nth(key, windowMs, n)
  local r = redis.call('ZRANGEBYSCORE', key, string.format('(%.3f', now - windowMs), '+inf',
    'WITHSCORES', 'LIMIT', n - 1, 1)
  return tonumber(r[2])
end

local function log_reset(key, windowMs)
  local r = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  local newest = tonumber(r[2])
  if newest == nil or newest <= now - windowMs then return 0 end
  return math.ceil(newest - now + windowMs)
end

local items = tonumber(ARGV[1])
for ri = 1, items do
  local spec = {}
  for number in string.gmatch(ARGV[ri + 1], '%S+') do spec[#spec + 1] = tonumber(number) end
  local algorithm = spec[1]
  local cost = spec[2]
  local m = spec[3]
  for _ = 1, spec[4 + 2 * m] or 1 do
    local base = #out
    local allowed = true
    local retry = 0
    for j = 1, m do
      local windowMs = spec[2 + 2 * j]
      local limit = spec[3 + 2 * j]
      local key = KEYS[keyi + j - 1]
      local remaining, reset
      if algorithm == 0 then
        local idx, c, p, weight = counter_read(key, windowMs)
        remaining = math.floor(limit - c - p * weight)
        reset = counter_reset(idx, c, p, weight, windowMs)
        if cost > 0 and c + p * weight + cost > limit then
          allowed = false
          local r
          if cost > limit then r = reset else r = counter_retry(idx, c, p, cost, limit, windowMs) end
          if r > retry then retry = r end
        end
      else
        local n = log_count(key, windowMs)
        remaining = limit - n
        reset = log_reset(key, windowMs)
        if cost > 0 and n + cost > limit then
          allowed = false
          local r
          if cost > limit then r = reset else r = log_nth(key, windowMs, n + cost - limit) - now + windowMs end
          if r > retry then retry = r end
        end
      end
      if remaining < 0 then remaining = 0 end
      out[base + 1 + 2 * j] = remaining
      out[base + 2 + 2 * j] = reset
    end
    if allowed then
      out[base + 1] = 1
      out[base + 2] = 0
    else
      out[base + 1] = 0
      out[base + 2] = math.floor(retry)
    end
  end
  keyi = keyi + m
  if algorithm == 1 then keyi = keyi + 1 end
end
return table.concat(out, ' ')
