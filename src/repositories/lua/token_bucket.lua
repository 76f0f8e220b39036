-- Token bucket shared by every process: Redis' own clock, so hosts' clocks never disagree.
-- KEYS[1] bucket hash; ARGV[1] capacity = requests per minute.
-- Returns {allowed (1|0), ms until one token is back, tokens left (floored)}.
local cap = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = cap / 60000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or cap
local ts = tonumber(b[2]) or now
if now > ts then tokens = math.min(cap, tokens + (now - ts) * rate) end
local allowed, wait = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(math.max(now, ts)))
-- Refilled to full within a minute, and a full bucket is the same as none: let idle ones expire.
redis.call('PEXPIRE', KEYS[1], 61000)
return {allowed, wait, math.floor(tokens)}
