-- KEYS: warm marker (routes the call to the user's slot; all keys share the {user} hash tag).
-- ARGV: key base, events from, events to, cap. One round trip, one consistent snapshot.
-- Only what the context shows: active goals and open to-dos, so finished ones (which
-- accumulate and sort first by date) never crowd the open ones out of the cap.
local base = ARGV[1]
local cap = tonumber(ARGV[4])
local out = { redis.call('EXISTS', KEYS[1]) }
for _, s in ipairs({ 'profile', 'preferences', 'state', 'feedback_summary' }) do
  out[#out + 1] = redis.call('HGETALL', base .. 'doc:' .. s .. ':self')
end
-- keep: JSON-encoded statuses to include (a document without a status is included).
local function coll(el, lo, hi, keep)
  local key = base .. 'z:' .. el
  local docs = {}
  local offset = 0
  while #docs < cap do
    local ids = redis.call('ZRANGEBYSCORE', key, lo, hi, 'LIMIT', offset, 200)
    if #ids == 0 then break end
    for _, id in ipairs(ids) do
      local dk = base .. 'doc:' .. el .. ':' .. id
      local status = keep and redis.call('HGET', dk, 'status')
      if not status or keep[status] then
        docs[#docs + 1] = redis.call('HGETALL', dk)
        if #docs >= cap then break end
      end
    end
    offset = offset + 200
  end
  return docs
end
out[#out + 1] = coll('goal', '-inf', '+inf', { ['"active"'] = true })
out[#out + 1] = coll('todo', '-inf', '+inf', { ['"pending"'] = true, ['"in_progress"'] = true })
out[#out + 1] = coll('event', ARGV[2], ARGV[3], nil)
out[#out + 1] = redis.call('GET', base .. 'digest')
return out
