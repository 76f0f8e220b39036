import type { Redis } from "ioredis";

/**
 * When each connected user next needs upkeep (channel renewal, fallback poll): one sorted set
 * (score = epoch ms). The scheduler's tick takes the due ones in bounded batches, so the cost
 * of a tick follows the work due, not the number of users.
 */
export class DueIndex {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = `${prefix}:gcal:due`;
  }

  async set(user: string, at: number): Promise<void> {
    await this.redis.zadd(this.key, Math.round(at), user);
  }

  async get(user: string): Promise<number | undefined> {
    const s = await this.redis.zscore(this.key, user);
    return s === null ? undefined : Number(s);
  }

  async remove(user: string): Promise<void> {
    await this.redis.zrem(this.key, user);
  }

  /**
   * Up to `limit` users due at `now`, each pushed back by `leaseMs` in the same step, so a
   * second tick does not hand them out again while their upkeep job waits.
   */
  async claim(now: number, limit: number, leaseMs: number): Promise<string[]> {
    const users = (await this.redis.eval(
      `local u = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
       for _, m in ipairs(u) do redis.call('ZADD', KEYS[1], ARGV[3], m) end
       return u`,
      1,
      this.key,
      now,
      limit,
      now + leaseMs,
    )) as string[];
    return users;
  }
}
