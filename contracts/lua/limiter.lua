-- Tollgate's limiter: decides a batch of checks in order, each all-or-none, with Redis's clock (TIME,
-- so gateway clocks do not matter). One script serves every kind of limit so the checks of one
-- event-loop turn share one call whatever their keys' tiers, and the read-only peek is the same code
-- with the writes left out, so the two can never disagree.
--
-- ARGV[1]: 1 to consume (decide, then take every limit's units and the concurrency slot, or none),
--   0 to peek (the same answer, nothing written).
-- ARGV[2]: the number of items; ARGV[3], ARGV[4], …: one item per run of identical checks, its
--   integers separated by spaces:
--     n cost m (type a b c) × m conc [leaseMs slot]
--   n      checks in the run, decided one after the other (1 when conc > 0)
--   cost   units each check takes from every limit
--   m      number of limits; each is a type and three numbers:
--     0 sliding counter   a = window ms, b = limit, c = 0
--     1 sliding log       a = window ms, b = limit, c = 0
--     2 GCRA              a = window ms, b = limit per window, c = burst
--     3 calendar period   a = the period's start (epoch ms), b = limit, c = the next period's start
--   conc   the most requests of this subject in flight (0: no concurrency limit); when above 0, the
--          slot's lease in ms and the slot's id follow.
-- KEYS, per item: one per limit, in order; then the log sequence counter when a limit is a log; then
--   the concurrency set when conc > 0. All keys of one item share one hash tag (Redis Cluster).
-- Returns one string of integers separated by spaces, per check (n per run):
--   allowed (1|0), retry-after ms, refused, then per limit: remaining, reset ms, then (conc > 0) the
--   requests in flight.
--   retry-after: 0 when allowed; else the floor of the exact time until every limit admits `cost`
--     again, assuming no other traffic (never late: a cache may trust it).
--   refused: 0 when allowed; j when limit j refused (the one with the longest retry among those that
--     did); m + 1 when only the concurrency cap did.
--   reset: ceil of the time until the limit's whole quota is back (at most the window for the log,
--     twice the window for the counter, the period's end for a calendar period).
--
-- Counter, GCRA and calendar states are read once per call and written once at its end: under load
-- one call carries many checks of one key, and reading and writing its hashes per check cost most
-- of the script's time. Checks still run in order against what the earlier ones left.

-- Library functions as locals: a global costs a table lookup (two for math.floor) at every use.
local call, tonumber, unpack = redis.call, tonumber, unpack
local floor, ceil, min, max = math.floor, math.ceil, math.min, math.max
local format, match, rep = string.format, string.match, string.rep

local t = call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local consuming = ARGV[1] == '1'

-- Concurrency refusals: no slot can be predicted to free up, so a short retry.
local CONCURRENCY_RETRY_MS = 1000

local out = {}
local states = {}
local written = {}

local function mark_written(key)
  if not written[key] then
    written[key] = true
    written[#written + 1] = key
  end
end

-- Sliding counter: this bucket's count (c) and the previous bucket's (p), weighted by how much of
-- the previous bucket the window still covers.
local function counter_of(key, windowMs)
  local st = states[key]
  if st then return st end
  local idx = floor(now / windowMs)
  local v = call('HMGET', key, 'i', 'c', 'p')
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
  st = { type = 0, idx = idx, c = c, p = p, weight = weight, same = same, windowMs = windowMs }
  states[key] = st
  return st
end

local function counter_reset(st)
  if st.c > 0 then return ceil((st.idx + 2) * st.windowMs - now) end
  if st.p > 0 and st.weight > 0 then return ceil((st.idx + 1) * st.windowMs - now) end
  return 0
end

-- Exact ms until `cost` fits again: the previous bucket decays linearly within this bucket; if this
-- bucket's count alone is too high, wait for it to become the previous bucket and decay.
local function counter_retry(st, cost, limit)
  if cost > limit then return counter_reset(st) end
  if st.c + cost <= limit then
    return st.idx * st.windowMs + st.windowMs * (1 - (limit - st.c - cost) / st.p) - now
  end
  return (st.idx + 1) * st.windowMs + st.windowMs * (1 - (limit - cost) / st.c) - now
end

-- Sliding log: one sorted-set entry per unit, scored by its time.
local function log_count(key, windowMs)
  return call('ZCOUNT', key, format('(%.3f', now - windowMs), '+inf')
end

local function log_reset(key, windowMs)
  local r = call('ZRANGE', key, -1, -1, 'WITHSCORES')
  local newest = tonumber(r[2])
  if newest == nil or newest <= now - windowMs then return 0 end
  return ceil(newest - now + windowMs)
end

local function log_retry(key, windowMs, n, cost, limit)
  if cost > limit then return log_reset(key, windowMs) end
  -- The (n + cost - limit)-th oldest entry still in the window must leave it.
  local r = call('ZRANGEBYSCORE', key, format('(%.3f', now - windowMs), '+inf',
    'WITHSCORES', 'LIMIT', n + cost - limit - 1, 1)
  return tonumber(r[2]) - now + windowMs
end

-- GCRA: one theoretical arrival time (tat) per limit. Units drain at `limit` per window (one every
-- `interval` ms) from a bucket that holds `burst`: in any interval of length t at most
-- burst + limit * t / window are admitted.
local function gcra_of(key, windowMs, limit, burst)
  local st = states[key]
  if st then return st end
  local interval = windowMs / limit
  -- Slack for float rounding: epoch ms near 2^41 carry about 0.0002 ms of it, enough to turn a whole
  -- number of intervals into a hair less. A hundredth of a ms, or of an interval when that is less,
  -- so a very high rate cannot gain a unit from it.
  st = { type = 2, tat = tonumber(call('GET', key)) or now, interval = interval, burst = burst,
    slack = min(0.01, interval / 100) }
  states[key] = st
  return st
end

local function gcra_base(st)
  if st.tat > now then return st.tat end
  return now
end

local function gcra_fits(st, cost)
  return gcra_base(st) + cost * st.interval - now <= st.burst * st.interval + st.slack
end

local function gcra_retry(st, cost)
  if cost > st.burst then return gcra_base(st) - now end
  return gcra_base(st) + cost * st.interval - st.burst * st.interval - now
end

-- The most units that fit now, by gcra_fits' rule.
local function gcra_remaining(st)
  local left = floor((st.burst * st.interval - (gcra_base(st) - now) + st.slack) / st.interval)
  if left < 0 then return 0 end
  if left > st.burst then return st.burst end
  return left
end

-- Calendar period (a day or a month in the tier's time zone): a count per period. The gateway sends
-- the period's start and the next one's; if Redis's clock is already past the next start (the
-- gateway's clock is behind), the next period is the one counted.
local function calendar_of(key, start, nextStart)
  local st = states[key]
  if st then return st end
  local periodStart, periodEnd = start, nextStart
  if now >= nextStart then
    periodStart, periodEnd = nextStart, nextStart + (nextStart - start)
  end
  local v = call('HMGET', key, 'p', 'c')
  local count = 0
  if tonumber(v[1]) == periodStart then count = tonumber(v[2]) or 0 end
  st = { type = 3, start = periodStart, ending = periodEnd, c = count }
  states[key] = st
  return st
end

local function calendar_reset(st)
  if st.c > 0 then return ceil(st.ending - now) end
  return 0
end

-- Whether limit j of a check admits `cost` now, and if not, how long until it does.
local function limit_fits(spec, j, key, cost)
  local kind, a, b, c = spec[4 * j], spec[4 * j + 1], spec[4 * j + 2], spec[4 * j + 3]
  if kind == 0 then
    local st = counter_of(key, a)
    if cost == 0 or st.c + st.p * st.weight + cost <= b then return true, 0, st end
    return false, counter_retry(st, cost, b), st
  elseif kind == 1 then
    local n = log_count(key, a)
    if cost == 0 or n + cost <= b then return true, 0, n end
    return false, log_retry(key, a, n, cost, b), n
  elseif kind == 2 then
    local st = gcra_of(key, a, b, c)
    if cost == 0 or gcra_fits(st, cost) then return true, 0, st end
    return false, gcra_retry(st, cost), st
  else
    local st = calendar_of(key, a, c)
    if cost == 0 or st.c + cost <= b then return true, 0, st end
    return false, st.ending - now, st
  end
end

-- An item's numbers, parsed once per call: the keys of one tier send the same item text (a batch of
-- 50 keys often has one or two distinct items), and splitting and converting the text cost more
-- than deciding a check. Everything in here is the same for every check of the item.
local function parse_item(text)
  -- One match per limit rather than one gmatch step per word: each Lua call into the pattern
  -- matcher costs about as much as the words it returns.
  local runs, cost, m, at = match(text, '^(%S+) (%S+) (%S+)()')
  local spec = { tonumber(runs), tonumber(cost), tonumber(m) }
  m = spec[3]
  local hasLog = false
  for j = 1, m do
    local kind, a, b, c, after = match(text, '^ (%S+) (%S+) (%S+) (%S+)()', at)
    kind = tonumber(kind)
    spec[4 * j], spec[4 * j + 1], spec[4 * j + 2], spec[4 * j + 3] = kind, tonumber(a), tonumber(b), tonumber(c)
    if kind == 1 then hasLog = true end
    at = after
  end
  -- The concurrency cap; when above 0, the lease and the slot id, kept as sent (tonumber would turn
  -- '007' into 7).
  local conc, leaseMs, slot = match(text, '^ (%S+) ?(%S*) ?(%S*)$', at)
  conc = tonumber(conc)
  spec[4 * m + 4] = conc
  -- One reply string per check, its numbers formatted as integers: Lua turns a number into text
  -- with a float format (%.14g), several times dearer than %d, and the values are whole numbers.
  local fmt = '%d %d %d' .. rep(' %d %d', m)
  if conc > 0 then
    fmt = fmt .. ' %d'
    leaseMs = tonumber(leaseMs)
    spec[4 * m + 5] = leaseMs
  else
    leaseMs, slot = nil, nil
  end
  -- row and facts are scratch space, filled anew by every check before they are read.
  return { spec = spec, conc = conc, leaseMs = leaseMs, slot = slot, hasLog = hasLog, fmt = fmt, row = {}, facts = {} }
end

local parsedItems = {}
local nextKey = 1
local items = tonumber(ARGV[2])
for ri = 1, items do
  local text = ARGV[ri + 2]
  local item = parsedItems[text]
  if item == nil then
    item = parse_item(text)
    parsedItems[text] = item
  end
  local spec = item.spec
  local runs, cost, m = spec[1], spec[2], spec[3]
  local conc, leaseMs, slot, hasLog = item.conc, item.leaseMs, item.slot, item.hasLog
  local limitKeys = {}
  for j = 1, m do
    limitKeys[j] = KEYS[nextKey + j - 1]
  end
  nextKey = nextKey + m
  local seqKey = nil
  if hasLog then
    seqKey = KEYS[nextKey]
    nextKey = nextKey + 1
  end
  local concKey = nil
  if conc > 0 then
    concKey = KEYS[nextKey]
    nextKey = nextKey + 1
  end
  local fmt, row, facts = item.fmt, item.row, item.facts

  for _ = 1, runs do
    local allowed = true
    local retry = 0
    local refused = 0
    for j = 1, m do
      local fits, r, fact = limit_fits(spec, j, limitKeys[j], cost)
      facts[j] = fact
      if not fits then
        allowed = false
        if refused == 0 or r > retry then
          retry = r
          refused = j
        end
      end
    end

    local inFlight = 0
    if concKey ~= nil then
      if consuming then
        call('ZREMRANGEBYSCORE', concKey, '-inf', format('%.3f', now))
        inFlight = call('ZCARD', concKey)
      else
        inFlight = call('ZCOUNT', concKey, format('(%.3f', now), '+inf')
      end
      if allowed and cost > 0 and inFlight >= conc then
        allowed = false
        retry = CONCURRENCY_RETRY_MS
        refused = m + 1
      end
    end

    local take = allowed and consuming and cost > 0
    if take and hasLog then
      local last = call('INCRBY', seqKey, cost)
      local longest = 0
      for j = 1, m do
        if spec[4 * j] == 1 and spec[4 * j + 1] > longest then longest = spec[4 * j + 1] end
      end
      call('PEXPIRE', seqKey, longest)
      for j = 1, m do
        if spec[4 * j] == 1 then
          local key, windowMs = limitKeys[j], spec[4 * j + 1]
          call('ZREMRANGEBYSCORE', key, '-inf', format('%.3f', now - windowMs))
          local score = format('%.3f', now)
          local u = last - cost + 1
          while u <= last do
            -- ZADD in chunks: unpack has a stack limit
            local args = {}
            local stop = min(last, u + 999)
            for v = u, stop do
              args[#args + 1] = score
              args[#args + 1] = v
            end
            call('ZADD', key, unpack(args))
            u = stop + 1
          end
          call('PEXPIRE', key, windowMs)
        end
      end
    end
    if take and concKey ~= nil then
      call('ZADD', concKey, format('%.3f', now + leaseMs), slot)
      call('PEXPIRE', concKey, leaseMs * 2)
      inFlight = inFlight + 1
    end

    for j = 1, m do
      local kind, limit = spec[4 * j], spec[4 * j + 2]
      local remaining, reset
      if kind == 0 then
        local st = facts[j]
        if take then
          st.c = st.c + cost
          mark_written(limitKeys[j])
        end
        remaining = floor(limit - st.c - st.p * st.weight)
        reset = counter_reset(st)
      elseif kind == 1 then
        local n = facts[j]
        if take then
          remaining = limit - n - cost
          reset = ceil(spec[4 * j + 1])
        else
          remaining = limit - n
          reset = log_reset(limitKeys[j], spec[4 * j + 1])
        end
      elseif kind == 2 then
        local st = facts[j]
        if take then
          st.tat = gcra_base(st) + cost * st.interval
          mark_written(limitKeys[j])
        end
        remaining = gcra_remaining(st)
        reset = ceil(gcra_base(st) - now)
      else
        local st = facts[j]
        if take then
          st.c = st.c + cost
          mark_written(limitKeys[j])
        end
        remaining = limit - st.c
        reset = calendar_reset(st)
      end
      if remaining < 0 then remaining = 0 end
      row[2 + 2 * j] = remaining
      row[3 + 2 * j] = reset
    end
    if allowed then
      row[1], row[2], row[3] = 1, 0, 0
    else
      row[1], row[2], row[3] = 0, floor(retry), refused
    end
    if concKey ~= nil then row[4 + 2 * m] = inFlight end
    out[#out + 1] = format(fmt, unpack(row))
  end
end

-- One write per state the call consumed from. The numbers go as %d text: given a number, redis.call
-- writes it with a float format (%.17g), which costs several times more, for the same text.
for wi = 1, #written do
  local key = written[wi]
  local st = states[key]
  if st.type == 0 then
    call('HSET', key, 'i', format('%d', st.idx), 'c', format('%d', st.c), 'p', format('%d', st.p))
    -- The hash is read until its bucket's next bucket ends: 2 windows from the bucket's first write
    -- cover that, so later writes to the same bucket leave the expiry alone.
    if not st.same then call('PEXPIRE', key, format('%d', 2 * st.windowMs)) end
  elseif st.type == 2 then
    -- Once the arrival time has passed, the state is the same as none.
    call('SET', key, format('%.3f', st.tat), 'PX', format('%d', max(1, ceil(st.tat - now))))
  else
    call('HSET', key, 'p', format('%d', st.start), 'c', format('%d', st.c))
    call('PEXPIRE', key, format('%d', ceil(st.ending - now) + 60000))
  end
end
return table.concat(out, ' ')
