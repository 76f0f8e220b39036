import { readFileSync } from "node:fs";
import type { ChainableCommander, Redis } from "ioredis";
import { type CollectionName, type DocElement, ELEMENTS, type SingletonName } from "../elements/registry.js";
import { SELF, type StoredDoc } from "../elements/stored.js";

const lua = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), "utf8");

const SCRIPTS = {
  memUpsert: { numberOfKeys: 3, lua: lua("upsert") },
  memRemove: { numberOfKeys: 3, lua: lua("remove") },
  memReadUser: { numberOfKeys: 1, lua: lua("read_user") },
  memList: { numberOfKeys: 2, lua: lua("list") },
  memNextSeq: { numberOfKeys: 1, lua: lua("next_seq") },
} as const;
type ScriptName = keyof typeof SCRIPTS;
type Target = Redis | ChainableCommander;

function call(t: Target, name: ScriptName, ...args: (string | number)[]): Promise<unknown> {
  return (t as unknown as Record<ScriptName, (...a: (string | number)[]) => Promise<unknown>>)[name](...args);
}

/** What the hot tier returns for one document (no field versions: DynamoDB keeps those). */
export interface HotDoc {
  id: string;
  rev: number;
  data: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export interface UserSnapshot {
  warm: boolean;
  singletons: Record<SingletonName, HotDoc | undefined>;
  goal: HotDoc[];
  todo: HotDoc[];
  event: HotDoc[];
  /** The stored morning digest (JSON), written by the digest worker (src/cadence/digest-store.ts). */
  digest?: string | null;
}

function parseHash(flat: string[] | undefined): HotDoc | undefined {
  if (!flat || flat.length === 0) return undefined;
  const doc: HotDoc = { id: SELF, rev: 0, data: {}, created_at: "", updated_at: "" };
  for (let i = 0; i < flat.length; i += 2) {
    const k = flat[i] as string;
    const v = flat[i + 1] as string;
    if (k === "_rev") doc.rev = Number(v);
    else if (k === "_id") doc.id = v;
    else if (k === "_created_at") doc.created_at = v;
    else if (k === "_updated_at") doc.updated_at = v;
    else doc.data[k] = JSON.parse(v);
  }
  return doc;
}

/**
 * Redis hot tier: one hash per document (field -> JSON value, so single fields read and
 * write on plain Redis), one sorted set per collection, all keys under the {user} hash tag.
 */
export class HotStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    for (const [name, def] of Object.entries(SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, def);
    }
  }

  base(user: string): string {
    return `${this.prefix}:{${user}}:`;
  }
  docKey(user: string, element: DocElement, id: string): string {
    return `${this.base(user)}doc:${element}:${id}`;
  }
  private zsetKey(user: string, element: DocElement): string {
    return `${this.base(user)}z:${element}`;
  }
  private tombKey(user: string, element: DocElement, id: string): string {
    return `${this.base(user)}tomb:${element}:${id}`;
  }
  private marker(user: string): string {
    return `${this.base(user)}warm`;
  }

  async nextSeq(user: string): Promise<number> {
    return Number(await call(this.redis, "memNextSeq", `${this.base(user)}seq`));
  }

  private upsertOn(t: Target, doc: StoredDoc): Promise<unknown> {
    const def = ELEMENTS[doc.element];
    // Hidden documents (cancelled events) leave the hot tier on every path: sync, replay, refill.
    if (def.hidden?.(doc.data)) return this.removeOn(t, doc);
    const fields: string[] = ["_id", doc.id, "_created_at", doc.created_at, "_updated_at", doc.updated_at];
    for (const [k, v] of Object.entries(doc.data)) fields.push(k, JSON.stringify(v));
    const score = def.score ? String(def.score(doc.data)) : "";
    return call(
      t,
      "memUpsert",
      this.docKey(doc.user_id, doc.element, doc.id),
      this.zsetKey(doc.user_id, doc.element),
      this.tombKey(doc.user_id, doc.element, doc.id),
      doc.rev,
      score,
      doc.id,
      ...fields,
    );
  }

  async upsert(doc: StoredDoc): Promise<boolean> {
    return (await this.upsertOn(this.redis, doc)) === 1;
  }

  async remove(doc: StoredDoc): Promise<void> {
    await this.removeOn(this.redis, doc);
  }

  private removeOn(t: Target, doc: StoredDoc): Promise<unknown> {
    return call(
      t,
      "memRemove",
      this.docKey(doc.user_id, doc.element, doc.id),
      this.zsetKey(doc.user_id, doc.element),
      this.tombKey(doc.user_id, doc.element, doc.id),
      doc.rev,
      doc.id,
    );
  }

  /** Cold refill from DynamoDB: version-guarded upserts, then the warm marker, in one pipeline. */
  async refill(user: string, docs: StoredDoc[]): Promise<void> {
    const p = this.redis.pipeline();
    for (const d of docs) void this.upsertOn(p, d);
    p.set(this.marker(user), "1");
    const res = await p.exec();
    const failed = res?.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
  }

  async getDoc(user: string, element: DocElement, id: string): Promise<{ warm: boolean; doc?: HotDoc }> {
    const res = await this.redis
      .pipeline()
      .exists(this.marker(user))
      .hgetall(this.docKey(user, element, id))
      .exec();
    if (!res) throw new Error("pipeline aborted");
    for (const [err] of res) if (err) throw err;
    const warm = res[0]?.[1] === 1;
    const h = res[1]?.[1] as Record<string, string>;
    return { warm, doc: parseHash(Object.entries(h).flat()) };
  }

  async list(
    user: string,
    element: CollectionName,
    min: number | "-inf",
    max: number | "+inf",
    cap: number,
  ): Promise<{ warm: boolean; docs: HotDoc[] }> {
    const [warm, flat] = (await call(
      this.redis,
      "memList",
      this.marker(user),
      this.zsetKey(user, element),
      `${this.base(user)}doc:${element}:`,
      min,
      max,
      cap,
    )) as [number, string[][]];
    return { warm: warm === 1, docs: flat.map(parseHash).filter((d): d is HotDoc => d !== undefined) };
  }

  async readUser(user: string, eventsFrom: number, eventsTo: number, cap: number): Promise<UserSnapshot> {
    const r = (await call(
      this.redis,
      "memReadUser",
      this.marker(user),
      this.base(user),
      eventsFrom,
      eventsTo,
      cap,
    )) as [number, string[], string[], string[], string[], string[][], string[][], string[][], string | null];
    const docs = (l: string[][]) => l.map(parseHash).filter((d): d is HotDoc => d !== undefined);
    return {
      warm: r[0] === 1,
      singletons: {
        profile: parseHash(r[1]),
        preferences: parseHash(r[2]),
        state: parseHash(r[3]),
        feedback_summary: parseHash(r[4]),
      },
      goal: docs(r[5]),
      todo: docs(r[6]),
      event: docs(r[7]),
      digest: r[8] ?? null,
    };
  }

  /** Drops the user's hot tier (tests and erasure); DynamoDB refills it on the next read. */
  async forgetUser(user: string): Promise<number> {
    let n = 0;
    for await (const keys of this.userKeys(user)) n += await this.redis.unlink(...keys);
    return n;
  }

  /** How many keys carry the user's tag (erasure proofs). */
  async countUserKeys(user: string): Promise<number> {
    let n = 0;
    for await (const keys of this.userKeys(user)) n += keys.length;
    return n;
  }

  private async *userKeys(user: string): AsyncGenerator<string[]> {
    let cursor = "0";
    do {
      const [next, keys] = await this.redis.scan(
        cursor,
        "MATCH",
        `${this.base(user).replace(/[{}*?[\]]/g, "\\$&")}*`,
        "COUNT",
        500,
      );
      cursor = next;
      if (keys.length) yield keys;
    } while (cursor !== "0");
  }
}
