import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import { zoneOf } from "./clock.js";

const lua = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), "utf8");
const SCRIPTS = {
  cadIndexSet: { numberOfKeys: 2, lua: lua("index_set") },
  cadIndexRemove: { numberOfKeys: 2, lua: lua("index_remove") },
} as const;
type Call = (...a: (string | number)[]) => Promise<number>;
type Commands = Record<keyof typeof SCRIPTS, Call>;

/** Users known to this process skip the Redis call on later writes, for a while (erasure elsewhere). */
const SEEN_MAX = 100_000;
const SEEN_MS = 10 * 60_000;

/**
 * Which users exist and in which timezone, bucketed by IANA zone: a cadence tick reads only
 * the buckets whose local time is due, in pages. All keys share one hash tag (one slot), so the
 * move between buckets is one atomic script.
 */
export class UserIndex {
  private readonly seen = new Map<string, number>();
  private readonly hash: string;
  private readonly zonesKey: string;
  private readonly zonePrefix: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    const base = `${prefix}:{cadence}:`;
    this.hash = `${base}user-tz`;
    this.zonesKey = `${base}zones`;
    this.zonePrefix = `${base}tz:`;
    for (const [name, def] of Object.entries(SCRIPTS)) if (!(name in redis)) redis.defineCommand(name, def);
  }

  private call(name: keyof typeof SCRIPTS, ...args: (string | number)[]): Promise<number> {
    return (this.redis as unknown as Commands)[name](...args);
  }

  /** Sets the user's zone (from the profile; UTC when unknown or invalid). */
  async setZone(user: string, tz: unknown): Promise<void> {
    await this.call("cadIndexSet", this.hash, this.zonesKey, user, zoneOf(tz), this.zonePrefix, "0");
    this.seen.set(user, Date.now() + SEEN_MS);
  }

  /** Adds a user seen for the first time, in UTC until a profile says otherwise. */
  async ensure(user: string): Promise<void> {
    if ((this.seen.get(user) ?? 0) > Date.now()) return;
    await this.call("cadIndexSet", this.hash, this.zonesKey, user, "UTC", this.zonePrefix, "1");
    if (this.seen.size >= SEEN_MAX) this.seen.clear();
    this.seen.set(user, Date.now() + SEEN_MS);
  }

  /** Called by the persist worker after every applied write. */
  async noteWrite(doc: { user_id: string; element: string; data: Record<string, unknown> }): Promise<void> {
    if (doc.element === "profile") await this.setZone(doc.user_id, doc.data.timezone);
    else await this.ensure(doc.user_id);
  }

  async remove(user: string): Promise<boolean> {
    this.seen.delete(user);
    return (await this.call("cadIndexRemove", this.hash, this.zonesKey, user, this.zonePrefix)) === 1;
  }

  async zoneOfUser(user: string): Promise<string | undefined> {
    return (await this.redis.hget(this.hash, user)) ?? undefined;
  }

  async zones(): Promise<string[]> {
    return (await this.redis.smembers(this.zonesKey)).sort();
  }

  /** Up to `limit` users of a zone after `after` (exclusive), in a stable (lexical) order. */
  async page(tz: string, after: string | undefined, limit: number): Promise<string[]> {
    return this.redis.zrange(
      this.zonePrefix + tz,
      after ? `(${after}` : "-",
      "+",
      "BYLEX",
      "LIMIT",
      0,
      limit,
    );
  }

  async size(tz: string): Promise<number> {
    return this.redis.zcard(this.zonePrefix + tz);
  }
}
