import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { type RedisEntry, readRedis } from "../support/scan.js";

/**
 * Value-level snapshots of the tiers, for "a refused request changed nothing" checks:
 * every Redis key with its type and full value, every DynamoDB item in full, the vector files.
 * Deterministic: hash fields and set members sorted, object keys sorted at every depth.
 */

type Obj = Record<string, unknown>;

/** A JSON value with object keys sorted at every depth; `__proto__` keys stay own keys. */
function normalise(v: unknown): unknown {
  if (v instanceof Set) return [...v].map(normalise).sort((a, b) => cmp(stable(a), stable(b)));
  if (v instanceof Uint8Array) return { $binary: Buffer.from(v).toString("base64") };
  if (Array.isArray(v)) return v.map(normalise);
  if (v && typeof v === "object") {
    const out: Obj = Object.create(null);
    for (const k of Object.keys(v).sort()) out[k] = normalise((v as Obj)[k]);
    return out;
  }
  return v;
}
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Stable JSON: the same value always gives the same string. */
export const stable = (v: unknown): string => JSON.stringify(normalise(v)) ?? "undefined";

/**
 * Per key: TYPE, then the read of that type, hashed inside Redis (one round trip, nothing but
 * digests on the wire): hash fields sorted by name, set members sorted, zset in rank order with
 * scores, list in order, stream entries with their ids; every part length-prefixed.
 */
const DIGEST_LUA = `
local out = {}
for _, k in ipairs(KEYS) do
  local t = redis.call('TYPE', k)['ok']
  local parts
  if t == 'string' then
    parts = { redis.call('GET', k) }
  elseif t == 'hash' then
    local flat = redis.call('HGETALL', k)
    local idx = {}
    for j = 1, #flat, 2 do idx[#idx + 1] = j end
    table.sort(idx, function(a, b) return flat[a] < flat[b] end)
    parts = {}
    for _, j in ipairs(idx) do parts[#parts + 1] = flat[j]; parts[#parts + 1] = flat[j + 1] end
  elseif t == 'zset' then
    parts = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
  elseif t == 'list' then
    parts = redis.call('LRANGE', k, 0, -1)
  elseif t == 'set' then
    parts = redis.call('SMEMBERS', k)
    table.sort(parts)
  elseif t == 'stream' then
    parts = {}
    for _, e in ipairs(redis.call('XRANGE', k, '-', '+')) do
      parts[#parts + 1] = e[1]
      for _, f in ipairs(e[2]) do parts[#parts + 1] = f end
    end
  elseif t ~= 'none' then
    return redis.error_reply('no reader for Redis type ' .. t .. ' of ' .. k)
  end
  if parts then
    local buf = {}
    for _, p in ipairs(parts) do buf[#buf + 1] = #p .. ':' .. p end
    out[#out + 1] = k
    out[#out + 1] = t .. ' ' .. redis.sha1hex(table.concat(buf, ','))
  end
end
return out
`;

/** The digest script as a command of this connection (EVALSHA, loaded once). */
function digestCommand(redis: Redis): (...args: (string | number)[]) => Promise<unknown> {
  if (!("tierDigest" in redis)) redis.defineCommand("tierDigest", { lua: DIGEST_LUA });
  const r = redis as unknown as { tierDigest: (...args: (string | number)[]) => Promise<unknown> };
  return (...args) => r.tierDigest(...args);
}

export interface RedisValues {
  /** key -> "<type> <sha1 of its whole value>": what the snapshot compares. */
  digests: Map<string, string>;
  /** key -> type and full value, for reading a change and searching stored keys. */
  values: Map<string, RedisEntry>;
}

/**
 * Every key's type and value digest (computed by Redis), plus its full value: read only for keys
 * whose digest is not the one `previous` holds (a same digest is the same value).
 */
export async function readRedisValues(
  redis: Redis,
  keys: readonly string[],
  previous?: RedisValues,
): Promise<RedisValues> {
  const digests = new Map<string, string>();
  for (let i = 0; i < keys.length; i += 500) {
    const batch = keys.slice(i, i + 500);
    const flat = (await digestCommand(redis)(batch.length, ...batch)) as string[];
    for (let j = 0; j < flat.length; j += 2) digests.set(flat[j] as string, flat[j + 1] as string);
  }
  const values = new Map<string, RedisEntry>();
  const stale: string[] = [];
  for (const [k, d] of digests) {
    const old = previous?.digests.get(k) === d ? previous.values.get(k) : undefined;
    if (old) values.set(k, old);
    else stale.push(k);
  }
  for (const [k, e] of await readRedis(redis, stale)) values.set(k, e);
  return { digests, values };
}

/** Every file under `dir` (recursively) with the SHA-1 of its bytes; empty when `dir` does not exist. */
export async function fileHashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string, rel: string): Promise<void> => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err;
    }
    for (const e of entries.sort((a, b) => cmp(a.name, b.name))) {
      const path = join(d, e.name);
      if (e.isDirectory()) await walk(path, `${rel}${e.name}/`);
      else {
        const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => {
          if (err.code === "ENOENT") return undefined; // a lock file that came and went
          throw err;
        });
        if (bytes) out[`${rel}${e.name}`] = createHash("sha1").update(bytes).digest("hex");
      }
    }
  };
  await walk(dir, "");
  return out;
}

/** A short, readable account of how two values differ (fields of a hash or item named). */
export function describeChange(a: unknown, b: unknown): string {
  const clip = (s: string) => (s.length > 160 ? `${s.slice(0, 160)}…` : s);
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys
      .filter((k) => stable((a as Obj)[k]) !== stable((b as Obj)[k]))
      .map((k) => `${k}: ${clip(stable((a as Obj)[k]))} -> ${clip(stable((b as Obj)[k]))}`)
      .join("; ");
  }
  return `${clip(stable(a))} -> ${clip(stable(b))}`;
}

const PROTO_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Paths of every own key named `__proto__`, `constructor` or `prototype`, at any depth. */
export function protoKeyPaths(v: unknown, path = "$"): string[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => protoKeyPaths(x, `${path}[${i}]`));
  if (v && typeof v === "object" && !(v instanceof Uint8Array)) {
    const entries = v instanceof Set ? [...v].map((x, i) => [String(i), x] as const) : Object.entries(v);
    return entries.flatMap(([k, x]) => [
      ...(PROTO_KEYS.has(k) && !(v instanceof Set) ? [`${path}.${k}`] : []),
      ...protoKeyPaths(x, `${path}.${k}`),
    ]);
  }
  if (typeof v === "string" && /^[[{]/.test(v)) {
    // Redis holds JSON text (document fields, job data): look inside it too.
    try {
      return protoKeyPaths(JSON.parse(v), `${path}<json>`);
    } catch {
      return [];
    }
  }
  return [];
}
