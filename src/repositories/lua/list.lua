-- KEYS: warm marker, member zset. ARGV: doc key prefix, min score, max score, cap.
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[2], ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
local docs = {}
for i, id in ipairs(ids) do docs[i] = redis.call('HGETALL', ARGV[1] .. id) end
return { redis.call('EXISTS', KEYS[1]), docs }
