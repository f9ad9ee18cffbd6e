-- Tollgate limiter: decide a batch of checks in order, each all-or-none.
-- One script serves both algorithms so the checks of one event-loop turn can share one call
-- whatever their keys' tiers; sliding-window-peek.lua holds the same reads without the writes.
--
-- KEYS, per check in order (all keys of one check share the `{<key id>}` hash tag):
--   algorithm 0 (sliding_window, two-bucket counter): one hash per limit,
--     fields i = bucket index (floor(now / window)), c = current bucket count, p = previous count.
--     (One hash per window instead of one key per bucket: the bucket index depends on Redis TIME,
--     and every key a script touches must be declared in KEYS.)
--   algorithm 1 (sliding_log, exact): one sorted set per limit (score = time in ms, member unique),
--     then one sequence counter whose INCRBY makes members unique for equal timestamps.
-- ARGV: [1] number of items; then one item per run of identical checks, its integers separated by
--   spaces: algorithm (0|1), cost, limit count M, then M pairs: window ms, limit, then optionally
--   the run's length N (default 1). Limits in any order; replies follow the same order. (One item
--   per check, cached by the caller, instead of one argument per number: the client encodes and
--   Redis parses a third of the arguments. A run of N checks of one key, as a busy key's batch is,
--   sends its KEYS and its item once, and is decided as N checks in a row.)
-- Returns one string of integers separated by spaces (one bulk reply is far cheaper for the client
--   to decode than an array of integers), per check (N per run): allowed (1|0), retry-after ms (0 when allowed;
--   floor of the exact time until every limit admits `cost` again, assuming no other traffic),
--   then M pairs: remaining (after this check), reset ms (ceil of the time until the full quota
--   is back: at most the window for the log, at most twice the window for the counter).
-- Time comes from Redis TIME (Redis 7 replicates script effects, so TIME is allowed).

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000

local out = {}
local keyi = 1

-- Counter reads: returns bucket index, current count, previous count, weight of the previous, and
-- whether the hash already holds this bucket.
local function counter_read(key, windowMs)
  local idx = math.floor(now / windowMs)
  local v = redis.call('HMGET', key, 'i', 'c', 'p')
  local i = tonumber(v[1])
  local same = i ~= nil and i >= idx
  local c = tonumber(v[2]) or 0
  local p = tonumber(v[3]) or 0
  if i == nil then
    c, p = 0, 0
  elseif i == idx - 1 then
    p, c = c, 0
  elseif i > idx then
    idx = i -- Redis clock stepped back (failover): keep the counts rather than forget them
  elseif i ~= idx then
    c, p = 0, 0
  end
  local weight = 1 - (now - idx * windowMs) / windowMs
  if weight < 0 then weight = 0 elseif weight > 1 then weight = 1 end
  return idx, c, p, weight, same
end

local function counter_reset(idx, c, p, weight, windowMs)
  if c > 0 then return math.ceil((idx + 2) * windowMs - now) end
  if p > 0 and weight > 0 then return math.ceil((idx + 1) * windowMs - now) end
  return 0
end

-- Exact ms until `cost` fits again: the previous bucket decays linearly within this bucket;
-- if the current count alone is too high, wait for it to become the previous bucket and decay.
local function counter_retry(idx, c, p, cost, limit, windowMs)
  if c + cost <= limit then
    return idx * windowMs + windowMs * (1 - (limit - c - cost) / p) - now
  end
  return (idx + 1) * windowMs + windowMs * (1 - (limit - cost) / c) - now
end

local function log_count(key, windowMs)
  return redis.call('ZCOUNT', key, string.format('(%.3f', now - windowMs), '+inf')
end

-- Score of the n-th oldest entry (1-based) still inside the window.
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

-- Per call: each ARGV item parsed once, and each counter hash read once and written once at the
-- end. Under load one call carries many checks of the same API key; reading and writing its hashes
-- per check cost most of the script's time (SLOWLOG/commandstats), and the decisions are the same:
-- checks still run in order against the counts the earlier checks of the call left.
local specs = {}
local counters = {}
local written = {}

local function spec_of(item)
  local spec = specs[item]
  if spec == nil then
    spec = {}
    for number in string.gmatch(item, '%S+') do spec[#spec + 1] = tonumber(number) end
    specs[item] = spec
  end
  return spec
end

-- A counter hash's state for this call: read on first use, then kept here.
local function counter_of(key, windowMs)
  local state = counters[key]
  if state == nil then
    local idx, c, p, weight, same = counter_read(key, windowMs)
    state = { idx = idx, c = c, p = p, weight = weight, same = same, windowMs = windowMs }
    counters[key] = state
  end
  return state
end

local items = tonumber(ARGV[1])
for ri = 1, items do
  local spec = spec_of(ARGV[ri + 1])
  local algorithm = spec[1]
  local cost = spec[2]
  local m = spec[3]
  for _ = 1, spec[4 + 2 * m] or 1 do
    local base = #out
    local allowed = true
    local retry = 0
    local logCounts = nil
    for j = 1, m do
      local windowMs = spec[2 + 2 * j]
      local limit = spec[3 + 2 * j]
      local key = KEYS[keyi + j - 1]
      if algorithm == 0 then
        local st = counter_of(key, windowMs)
        if st.c + st.p * st.weight + cost > limit then
          allowed = false
          local r
          if cost > limit then r = counter_reset(st.idx, st.c, st.p, st.weight, windowMs)
          else r = counter_retry(st.idx, st.c, st.p, cost, limit, windowMs) end
          if r > retry then retry = r end
        end
      else
        local n = log_count(key, windowMs)
        logCounts = logCounts or {}
        logCounts[j] = n
        if n + cost > limit then
          allowed = false
          local r
          if cost > limit then r = log_reset(key, windowMs)
          else r = log_nth(key, windowMs, n + cost - limit) - now + windowMs end
          if r > retry then retry = r end
        end
      end
    end

    if allowed then
      if algorithm == 0 then
        for j = 1, m do
          local windowMs = spec[2 + 2 * j]
          local limit = spec[3 + 2 * j]
          local key = KEYS[keyi + j - 1]
          local st = counters[key]
          st.c = st.c + cost
          if not written[key] then
            written[key] = true
            written[#written + 1] = key
          end
          local remaining = math.floor(limit - (st.c + st.p * st.weight))
          if remaining < 0 then remaining = 0 end
          out[base + 1 + 2 * j] = remaining
          out[base + 2 + 2 * j] = counter_reset(st.idx, st.c, st.p, st.weight, windowMs)
        end
      else
        local longest = 0
        for j = 1, m do if spec[2 + 2 * j] > longest then longest = spec[2 + 2 * j] end end
        local seqKey = KEYS[keyi + m]
        local last = redis.call('INCRBY', seqKey, cost)
        redis.call('PEXPIRE', seqKey, longest)
        for j = 1, m do
          local windowMs = spec[2 + 2 * j]
          local key = KEYS[keyi + j - 1]
          redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.3f', now - windowMs))
          local score = string.format('%.3f', now)
          local u = last - cost + 1
          while u <= last do
            -- ZADD in chunks: unpack has a stack limit
            local args = {}
            local stop = math.min(last, u + 999)
            for v = u, stop do
              args[#args + 1] = score
              args[#args + 1] = v
            end
            redis.call('ZADD', key, unpack(args))
            u = stop + 1
          end
          redis.call('PEXPIRE', key, windowMs)
          out[base + 1 + 2 * j] = spec[3 + 2 * j] - logCounts[j] - cost
          if cost > 0 then out[base + 2 + 2 * j] = math.ceil(windowMs)
          else out[base + 2 + 2 * j] = log_reset(key, windowMs) end
        end
      end
      out[base + 1] = 1
      out[base + 2] = 0
    else
      for j = 1, m do
        local windowMs = spec[2 + 2 * j]
        local limit = spec[3 + 2 * j]
        local key = KEYS[keyi + j - 1]
        local remaining, reset
        if algorithm == 0 then
          local st = counters[key]
          remaining = math.floor(limit - st.c - st.p * st.weight)
          reset = counter_reset(st.idx, st.c, st.p, st.weight, windowMs)
        else
          remaining = limit - logCounts[j]
          reset = log_reset(key, windowMs)
        end
        if remaining < 0 then remaining = 0 end
        out[base + 1 + 2 * j] = remaining
        out[base + 2 + 2 * j] = reset
      end
      out[base + 1] = 0
      out[base + 2] = math.floor(retry)
    end
  end
  keyi = keyi + m
  if algorithm == 1 then keyi = keyi + 1 end
end

-- One write per counter hash the call consumed from.
for wi = 1, #written do
  local key = written[wi]
  local st = counters[key]
  redis.call('HSET', key, 'i', st.idx, 'c', st.c, 'p', st.p)
  -- The hash is read until its bucket's next bucket ends: 2 windows from the bucket's first write
  -- cover that, so later writes to the same bucket leave the expiry alone.
  if not st.same then redis.call('PEXPIRE', key, 2 * st.windowMs) end
end
return table.concat(out, ' ')
