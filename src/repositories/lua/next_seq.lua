-- KEYS: sequence key. Microseconds of Redis time, strictly increasing per user even if the
-- key was lost (a flushed Redis never hands out a sequence below one already used).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local v = now
if last >= v then v = last + 1 end
redis.call('SET', KEYS[1], string.format('%.0f', v))
return string.format('%.0f', v)
