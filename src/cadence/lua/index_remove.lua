-- KEYS: user->zone hash, zones set. ARGV: user, per-zone zset key prefix.
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return 0 end
redis.call('ZREM', ARGV[2] .. old, ARGV[1])
if redis.call('ZCARD', ARGV[2] .. old) == 0 then redis.call('SREM', KEYS[2], old) end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
