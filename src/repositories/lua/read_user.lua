-- KEYS: warm marker (routes the call to the user's slot; all keys share the {user} hash tag).
-- ARGV: key base, events from, events to, cap. One round trip, one consistent snapshot.
local base = ARGV[1]
local cap = tonumber(ARGV[4])
local out = { redis.call('EXISTS', KEYS[1]) }
for _, s in ipairs({ 'profile', 'preferences', 'state', 'feedback_summary' }) do
  out[#out + 1] = redis.call('HGETALL', base .. 'doc:' .. s .. ':self')
end
local function coll(el, lo, hi)
  local ids = redis.call('ZRANGEBYSCORE', base .. 'z:' .. el, lo, hi, 'LIMIT', 0, cap)
  local docs = {}
  for i, id in ipairs(ids) do docs[i] = redis.call('HGETALL', base .. 'doc:' .. el .. ':' .. id) end
  return docs
end
out[#out + 1] = coll('goal', '-inf', '+inf')
out[#out + 1] = coll('todo', '-inf', '+inf')
out[#out + 1] = coll('event', ARGV[2], ARGV[3])
return out
