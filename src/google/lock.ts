import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

export class LockLost extends Error {}

export interface Held {
  /** Pushes the expiry out again; throws LockLost when another holder took over. */
  extend(): Promise<void>;
  release(): Promise<void>;
}

/**
 * A per-user mutual-exclusion lease in Redis: every call to Google for a user (sync, channel
 * renewal, disconnect) runs under it, so one user never has two syncs or two refreshers at once,
 * across all worker processes. The lease expires on its own if its holder dies.
 */
export class UserLocks {
  constructor(
    private readonly redis: Redis,
    private readonly keyOf: (user: string) => string,
    private readonly ttlMs = 60_000,
  ) {}

  async tryAcquire(user: string): Promise<Held | undefined> {
    const key = this.keyOf(user);
    const token = randomBytes(12).toString("hex");
    const ok = await this.redis.set(key, token, "PX", this.ttlMs, "NX");
    if (ok !== "OK") return undefined;
    return {
      extend: async () => {
        if (Number(await this.redis.eval(EXTEND, 1, key, token, this.ttlMs)) !== 1) throw new LockLost();
      },
      release: async () => {
        await this.redis.eval(RELEASE, 1, key, token);
      },
    };
  }

  /** Waits (polling) up to `waitMs` for the lease. */
  async acquire(user: string, waitMs: number): Promise<Held | undefined> {
    const deadline = performance.now() + waitMs;
    for (let i = 0; ; i++) {
      const h = await this.tryAcquire(user);
      if (h || performance.now() > deadline) return h;
      await new Promise((r) => setTimeout(r, Math.min(500, 25 * 2 ** Math.min(i, 5))));
    }
  }

  async isHeld(user: string): Promise<boolean> {
    return (await this.redis.exists(this.keyOf(user))) === 1;
  }
}
