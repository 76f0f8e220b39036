-- KEYS: user->zone hash, zones set. ARGV: user, zone, per-zone zset key prefix, '1' = only if absent.
-- Moves the user between zone buckets atomically; empty buckets leave the zones set.
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old and ARGV[4] == '1' then return 0 end
if old == ARGV[2] then return 0 end
if old then
  redis.call('ZREM', ARGV[3] .. old, ARGV[1])
  if redis.call('ZCARD', ARGV[3] .. old) == 0 then redis.call('SREM', KEYS[2], old) end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', ARGV[3] .. ARGV[2], 0, ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return 1
