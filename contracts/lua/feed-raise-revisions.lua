-- Raise the projection's applied revisions to those of rows just read from PostgreSQL, before a
-- rebuild swaps its staged projection in. Only raised, never lowered or removed: the revisions of
-- deleted keys and tiers (not in PostgreSQL any more) stay, so a change older than a deletion is
-- dropped even after a rebuild. A change published meanwhile with a higher revision bumps the
-- version and makes the swap refuse, so raising early cannot hide a newer change.
--
-- KEYS[1]  revisions hash ({config}:revisions)
-- ARGV     field, revision, field, revision, …
-- Returns  the number of fields raised
local raised = 0
for i = 1, #ARGV, 2 do
  local applied = tonumber(redis.call('HGET', KEYS[1], ARGV[i]))
  if not applied or applied < tonumber(ARGV[i + 1]) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    raised = raised + 1
  end
end
return raised
