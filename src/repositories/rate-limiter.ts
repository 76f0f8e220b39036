import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";

const SCRIPT = readFileSync(new URL("./lua/token_bucket.lua", import.meta.url), "utf8");

type WithBucket = { memTokenBucket(key: string, perMinute: number): Promise<[number, number, number]> };

export interface RateDecision {
  allowed: boolean;
  /** Whole seconds until one request is allowed again (0 when allowed). */
  retryAfterS: number;
}

/** Per-minute token buckets in Redis, so every API process draws from the same bucket. */
export class RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** The user's key tag (HotStore.base): erasing the user erases their bucket too. */
    private readonly userBase: (user: string) => string,
  ) {
    if (!("memTokenBucket" in redis)) redis.defineCommand("memTokenBucket", { numberOfKeys: 1, lua: SCRIPT });
  }

  forKey(keyId: string, perMinute: number): Promise<RateDecision> {
    return this.take(`${this.prefix}:rl:${keyId}`, perMinute);
  }

  forUser(user: string, perMinute: number): Promise<RateDecision> {
    return this.take(`${this.userBase(user)}rl`, perMinute);
  }

  private async take(bucket: string, perMinute: number): Promise<RateDecision> {
    const [allowed, waitMs] = await (this.redis as unknown as WithBucket).memTokenBucket(bucket, perMinute);
    return { allowed: allowed === 1, retryAfterS: allowed === 1 ? 0 : Math.max(1, Math.ceil(waitMs / 1000)) };
  }
}
