import type { Redis } from "ioredis";
import { toEpochMs } from "../elements/common.js";

// Removes one evicted event unless it changed since it was read (then the next sweep decides).
const EVICT = `
local cur = redis.call('HGET', KEYS[1], '_rev')
if cur and cur ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1`;

const SCANS_PER_JOB = 20;
const SCAN_COUNT = 1000;

/** When an event is over: its end, or its start when it has none. */
export function eventEndMs(data: Record<string, unknown>): number {
  const end = data.end ?? data.start;
  return typeof end === "string" ? toEpochMs(end) : Number.NaN;
}

export interface SweepResult {
  cursor: string;
  keys: number;
  evicted: number;
}

/**
 * Past events leave the hot tier (DynamoDB keeps them): one bounded slice of a SCAN over every
 * user's event index per call; the caller hands the cursor on until it comes back "0".
 */
export class EventEviction {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** Events that ended before this instant are evicted. */
    readonly cutoff: () => number,
  ) {}

  async sweep(cursor = "0"): Promise<SweepResult> {
    const cut = this.cutoff();
    const out: SweepResult = { cursor, keys: 0, evicted: 0 };
    for (let i = 0; i < SCANS_PER_JOB; i++) {
      const [next, keys] = await this.redis.scan(
        out.cursor,
        "MATCH",
        `${this.prefix}:{*}:z:event`,
        "COUNT",
        SCAN_COUNT,
      );
      out.cursor = next;
      for (const z of keys) {
        out.keys++;
        out.evicted += await this.evictIndex(z, cut);
      }
      if (next === "0") break;
    }
    return out;
  }

  /** One user's index: candidates by start (the score), then each one's end. */
  async evictIndex(zkey: string, cut: number): Promise<number> {
    const docPrefix = zkey.replace(/z:event$/, "doc:event:");
    const ids = await this.redis.zrangebyscore(zkey, "-inf", `(${cut}`, "LIMIT", 0, 5000);
    let n = 0;
    for (const id of ids) {
      const [rev, end, start] = await this.redis.hmget(`${docPrefix}${id}`, "_rev", "end", "start");
      const data = { end: end ? JSON.parse(end) : undefined, start: start ? JSON.parse(start) : undefined };
      const over = eventEndMs(data);
      if (rev !== null && !(over < cut)) continue;
      n += Number(await this.redis.eval(EVICT, 2, `${docPrefix}${id}`, zkey, rev ?? "", id));
    }
    return n;
  }
}
