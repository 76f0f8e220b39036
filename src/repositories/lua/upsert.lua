-- KEYS: doc hash, member zset, tombstone. ARGV: rev, score ('' = none), member, field, value, ...
-- Writes only a newer revision, never over a deletion: replays and late refills are harmless.
local rev = tonumber(ARGV[1])
local cur = tonumber(redis.call('HGET', KEYS[1], '_rev') or '0')
if cur >= rev then return 0 end
local tomb = tonumber(redis.call('GET', KEYS[3]) or '0')
if tomb >= rev then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '_rev', ARGV[1], unpack(ARGV, 4))
if ARGV[2] ~= '' then redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3]) end
return 1
