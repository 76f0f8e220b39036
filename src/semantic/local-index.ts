import {
  appendFile,
  type FileHandle,
  mkdir,
  open,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  matchesFilter,
  type QueryOptions,
  type VectorHit,
  type VectorIndex,
  type VectorMeta,
  type VectorRecord,
} from "./vector-index.js";

interface Entry {
  meta: VectorMeta;
  values: Float32Array;
  norm: number;
}

interface Loaded {
  ino: number;
  /** Bytes of the log already applied (always at a line boundary). */
  offset: number;
  lines: number;
  entries: Map<string, Entry>;
}

type LogLine = { u: { id: string; m: VectorMeta; v: string } } | { d: string[] };

const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 20_000;

const encode = (v: number[]) => Buffer.from(new Float32Array(v).buffer).toString("base64");
function decode(s: string): Float32Array {
  const b = Buffer.from(s, "base64");
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
const normOf = (v: ArrayLike<number>) => {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += (v[i] as number) ** 2;
  return Math.sqrt(n);
};

export class IndexIdentityError extends Error {}

/**
 * Exact cosine search over one append-only log per user under
 * DATA_DIR/vectors/<embedder identity>/. Appends and compaction hold a lock directory, so an
 * API process and worker processes on the same DATA_DIR share the index; readers replay only
 * the bytes appended since their last read. Vectors are derived data: `npm run reindex`
 * rebuilds them from DynamoDB.
 */
export class LocalVectorIndex implements VectorIndex {
  readonly kind = "local" as const;
  readonly dir: string;
  private readonly cache = new Map<string, Loaded>();
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly loads = new Map<string, Promise<Loaded>>();

  constructor(
    dataDir: string,
    private readonly identity: string,
    private readonly dimensions: number,
  ) {
    this.dir = resolve(dataDir, "vectors", identity.replace(/[^A-Za-z0-9._-]/g, "_"));
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const manifest = join(this.dir, "index.json");
    try {
      const m = JSON.parse(await readFile(manifest, "utf8")) as { identity: string; dimensions: number };
      if (m.identity !== this.identity || m.dimensions !== this.dimensions) {
        throw new IndexIdentityError(
          `${this.dir} holds ${m.identity} (${m.dimensions} dimensions), not ${this.identity} (${this.dimensions})`,
        );
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      await writeFile(manifest, JSON.stringify({ identity: this.identity, dimensions: this.dimensions }));
    }
  }

  async ping(): Promise<void> {
    await stat(this.dir);
  }

  private file(user: string) {
    return join(this.dir, `${user}.log`);
  }

  /** One load per user at a time: two interleaved tail reads would apply bytes twice. */
  private load(user: string): Promise<Loaded> {
    const prev = this.loads.get(user) ?? Promise.resolve();
    const run = prev.then(
      () => this.loadNow(user),
      () => this.loadNow(user),
    );
    this.loads.set(user, run);
    const clear = () => {
      if (this.loads.get(user) === run) this.loads.delete(user);
    };
    run.then(clear, clear);
    return run;
  }

  /** Brings the in-memory copy up to date with the file (tail only when it just grew). */
  private async loadNow(user: string): Promise<Loaded> {
    const path = this.file(user);
    let st: { ino: number; size: number };
    try {
      st = await stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      const empty = { ino: -1, offset: 0, lines: 0, entries: new Map() };
      this.cache.set(user, empty);
      return empty;
    }
    let cur = this.cache.get(user);
    if (!cur || cur.ino !== st.ino || st.size < cur.offset) {
      cur = { ino: st.ino, offset: 0, lines: 0, entries: new Map() };
      this.cache.set(user, cur);
    }
    if (st.size === cur.offset) return cur;
    const fh = await open(path, "r");
    try {
      const buf = Buffer.alloc(st.size - cur.offset);
      await fh.read(buf, 0, buf.length, cur.offset);
      const end = buf.lastIndexOf(0x0a);
      if (end < 0) return cur; // a line still being written
      for (const line of buf.subarray(0, end).toString("utf8").split("\n")) this.apply(cur, line);
      cur.offset += end + 1;
    } finally {
      await fh.close();
    }
    return cur;
  }

  private apply(l: Loaded, line: string) {
    if (!line) return;
    let rec: LogLine;
    try {
      rec = JSON.parse(line) as LogLine;
    } catch {
      return; // the torn tail of a crashed write
    }
    l.lines++;
    if ("u" in rec) {
      const values = decode(rec.u.v);
      l.entries.set(rec.u.id, { meta: rec.u.m, values, norm: normOf(values) });
    } else for (const id of rec.d) l.entries.delete(id);
  }

  /** One writer per user: in this process by a promise chain, across processes by a lock directory. */
  private locked<T>(user: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(user) ?? Promise.resolve();
    const run = prev
      .catch(() => {})
      .then(async () => {
        const lock = `${this.file(user)}.lock`;
        await acquire(lock);
        try {
          return await fn();
        } finally {
          await rm(lock, { recursive: true, force: true });
        }
      });
    this.chains.set(user, run);
    const clear = () => {
      if (this.chains.get(user) === run) this.chains.delete(user);
    };
    run.then(clear, clear);
    return run;
  }

  private async append(user: string, lines: LogLine[]): Promise<void> {
    if (lines.length === 0) return;
    await this.locked(user, async () => {
      const path = this.file(user);
      let fh: FileHandle | undefined;
      let torn = false;
      try {
        fh = await open(path, "r");
        const { size } = await fh.stat();
        if (size > 0) {
          const last = Buffer.alloc(1);
          await fh.read(last, 0, 1, size - 1);
          torn = last[0] !== 0x0a;
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      } finally {
        await fh?.close();
      }
      const body = lines.map((l) => JSON.stringify(l)).join("\n");
      await appendFile(path, `${torn ? "\n" : ""}${body}\n`);
      const cur = await this.load(user);
      if (cur.lines > 2 * cur.entries.size + 64) await this.compact(user, cur);
    });
  }

  private async compact(user: string, cur: Loaded): Promise<void> {
    const path = this.file(user);
    const tmp = `${path}.${process.pid}.tmp`;
    const body = [...cur.entries].map(([id, e]) =>
      JSON.stringify({ u: { id, m: e.meta, v: Buffer.from(e.values.buffer).toString("base64") } }),
    );
    await writeFile(tmp, body.length ? `${body.join("\n")}\n` : "");
    await rename(tmp, path);
    this.cache.delete(user);
    await this.load(user);
  }

  async upsert(user: string, records: VectorRecord[]): Promise<void> {
    for (const r of records) {
      if (r.values.length !== this.dimensions) {
        throw new IndexIdentityError(
          `vector ${r.id} has ${r.values.length} dimensions, index has ${this.dimensions}`,
        );
      }
    }
    await this.append(
      user,
      records.map((r) => ({ u: { id: r.id, m: r.metadata, v: encode(r.values) } })),
    );
  }

  async delete(user: string, ids: string[]): Promise<void> {
    if (ids.length) await this.append(user, [{ d: ids }]);
  }

  async fetch(user: string, ids: string[]): Promise<Map<string, VectorMeta>> {
    const l = await this.load(user);
    const out = new Map<string, VectorMeta>();
    for (const id of ids) {
      const e = l.entries.get(id);
      if (e) out.set(id, e.meta);
    }
    return out;
  }

  async listIds(user: string, prefix = ""): Promise<string[]> {
    const l = await this.load(user);
    return [...l.entries.keys()].filter((id) => id.startsWith(prefix)).sort();
  }

  async query(user: string, vector: number[], opts: QueryOptions): Promise<VectorHit[]> {
    const l = await this.load(user);
    const qn = normOf(vector);
    if (qn === 0) return [];
    const hits: VectorHit[] = [];
    for (const [id, e] of l.entries) {
      if (!matchesFilter(e.meta as unknown as Record<string, unknown>, opts.filter)) continue;
      let dot = 0;
      for (let i = 0; i < e.values.length; i++) dot += (e.values[i] as number) * (vector[i] ?? 0);
      hits.push({ id, score: e.norm > 0 ? dot / (e.norm * qn) : 0, metadata: e.meta });
    }
    return hits.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id)).slice(0, opts.k);
  }

  async deleteUser(user: string): Promise<void> {
    await this.locked(user, async () => {
      await rm(this.file(user), { force: true });
      this.cache.delete(user);
    });
  }
}

async function acquire(lock: string): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let i = 0; ; i++) {
    try {
      await mkdir(lock);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    // A holder that died leaves its lock behind: take it over once it is clearly stale.
    const st = await stat(lock).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > LOCK_STALE_MS) {
      await rm(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`vector index lock ${lock} held for too long`);
    await new Promise((r) => setTimeout(r, Math.min(50, 5 + i * 2)));
  }
}
