-- KEYS: doc hash, member zset, tombstone. ARGV: rev of the deleted document, member.
-- The short-lived tombstone stops a concurrent cold refill from bringing the document back.
local cur = tonumber(redis.call('HGET', KEYS[1], '_rev') or '0')
if cur > tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], ARGV[1], 'EX', 86400)
return 1
