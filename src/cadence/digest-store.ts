import type { Redis } from "ioredis";
import type { CadenceStore } from "../repositories/cadence-store.js";
import type { HotStore } from "../repositories/redis-hot.js";
import type { Digest } from "./digest.js";

/** Stored in the hot tier when DynamoDB has no digest either, so the miss is not repeated. */
const NONE = '{"none":true}';

/**
 * The latest digest per user: DynamoDB (source of truth), a hot copy under the user's
 * `{user}` tag (read with the context snapshot), and the `digest` event stream.
 */
export class DigestStore {
  readonly streamKey: string;

  constructor(
    private readonly redis: Redis,
    private readonly hot: HotStore,
    private readonly store: CadenceStore,
    keyPrefix: string,
    private readonly maxlen: number,
  ) {
    this.streamKey = `${keyPrefix}:stream:digest`;
  }

  hotKey(user: string): string {
    return `${this.hot.base(user)}digest`;
  }

  /**
   * Stores and publishes once per (user, local date). The item is marked published only
   * after XADD, so a crash in between republishes on retry (at-least-once events).
   */
  async save(d: Digest, opts: { replace?: boolean } = {}): Promise<"stored" | "exists" | "replaced"> {
    const cur = await this.store.getDigest(d.user_id);
    if (cur?.date === d.date && cur.published === true && opts.replace) {
      // A rebuild on request: the stored copy changes; the day's event was already published.
      await this.store.putDigest({ ...d, published: true });
      await this.redis.set(this.hotKey(d.user_id), JSON.stringify(d));
      return "replaced";
    }
    if (cur?.date === d.date && cur.published === true) {
      await this.redis.set(this.hotKey(d.user_id), JSON.stringify(strip(cur)));
      return "exists";
    }
    const doc = cur?.date === d.date && !opts.replace ? (strip(cur) as Digest) : d;
    await this.store.putDigest({ ...doc, published: false });
    await this.redis.set(this.hotKey(d.user_id), JSON.stringify(doc));
    await this.redis.xadd(
      this.streamKey,
      "MAXLEN",
      "~",
      this.maxlen,
      "*",
      "user_id",
      doc.user_id,
      "date",
      doc.date,
      "digest",
      JSON.stringify(doc),
    );
    await this.store.putDigest({ ...doc, published: true });
    return "stored";
  }

  /** Hot copy first; on a miss DynamoDB, then the hot copy (or the "none" marker) is filled. */
  async get(user: string): Promise<Digest | undefined> {
    return this.fromHot(user, await this.redis.get(this.hotKey(user)));
  }

  /** `raw` is what the hot tier held (the context snapshot reads it in the same round trip). */
  async fromHot(user: string, raw: string | null | undefined): Promise<Digest | undefined> {
    if (raw === NONE) return undefined;
    if (raw) return JSON.parse(raw) as Digest;
    const cur = await this.store.getDigest(user);
    const d = cur ? (strip(cur) as Digest) : undefined;
    await this.redis.set(this.hotKey(user), d ? JSON.stringify(d) : NONE);
    return d;
  }

  /** Stream entries of one user (erasure and export): a bounded scan of the capped stream. */
  async streamEntries(user: string): Promise<string[]> {
    const ids: string[] = [];
    let start = "-";
    for (;;) {
      const page = await this.redis.xrange(this.streamKey, start, "+", "COUNT", 1000);
      for (const [id, fields] of page) {
        const i = fields.indexOf("user_id");
        if (i >= 0 && fields[i + 1] === user) ids.push(id);
      }
      if (page.length < 1000) return ids;
      start = `(${page.at(-1)?.[0]}`;
    }
  }

  async eraseStream(user: string): Promise<number> {
    const ids = await this.streamEntries(user);
    for (let i = 0; i < ids.length; i += 500) await this.redis.xdel(this.streamKey, ...ids.slice(i, i + 500));
    return ids.length;
  }
}

function strip(d: Record<string, unknown>): Record<string, unknown> {
  const { published: _p, ...rest } = d;
  return rest;
}
