import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { createDynamo } from "../../src/infra/dynamo.js";
import { DynamoStore } from "../../src/repositories/dynamo-store.js";
import { HotStore } from "../../src/repositories/redis-hot.js";
import { DynaliteProc, freePort, type Proc, RedisProc, run, tempDir, until } from "./procs.js";

/**
 * The app as real processes for fault tests: its own Redis (AOF, fsync always) and its own
 * dynalite, an API process and worker processes (`src/worker-main.ts <queues>`), all on one
 * DATA_DIR (the local vector index is shared through it). Everything is on loopback.
 */
export const FAULT_KEY = "fault-service-key";
export const KEY_PREFIX = "fk";
export const QUEUE_PREFIX = "fq";
export const TABLE = "fault_memory";

export interface WorkerProc {
  proc: Proc;
  queues: string[];
  /** OPS_PORT of the process: /healthz, /readyz, /metrics. */
  opsPort: number;
}

export interface ClusterOptions {
  /** Queues of each worker process; default two processes serving persist and embed. */
  workers?: string[][];
  /** `api` = src/api-main.ts (no workers); `main` = src/main.ts (API and every worker). */
  api?: "api" | "main";
  env?: Record<string, string>;
}

export interface CallResult {
  status: number;
  body: any;
}

export interface Cluster {
  base: string;
  redis: RedisProc;
  dynamo: DynaliteProc;
  api: Proc;
  workers: WorkerProc[];
  env: Record<string, string>;
  /** The test's own connection to the cluster's Redis (errors swallowed while it is down). */
  r: Redis;
  store: DynamoStore;
  hot: HotStore;
  startWorker(queues: string[]): Promise<WorkerProc>;
  /** An API call with the service key; status 0 when the request could not complete. */
  call(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<CallResult>;
  queue(name: string): Queue;
  /** Until no job of these queues waits, runs, is delayed for a retry or is prioritized. */
  drained(queues: string[], timeoutMs?: number): Promise<void>;
  /** Counter of completed/failed jobs of one queue in one worker process (its /metrics). */
  jobsDone(w: WorkerProc, queue: string, outcome?: "completed" | "failed"): Promise<number>;
  logs(): string;
  cleanup(): Promise<void>;
}

const tsxArgs = (script: string, args: string[] = []) => ["--import", "tsx", script, ...args];

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const dirs = [tempDir("redis"), tempDir("dyn"), tempDir("data")] as const;
  const redis = new RedisProc(await freePort(), dirs[0].path);
  await redis.start();
  const dynamo = new DynaliteProc(await freePort(), dirs[1].path);
  await dynamo.start();
  const port = await freePort();
  const env: Record<string, string> = {
    REDIS_URL: redis.url(),
    DYNAMODB_ENDPOINT: dynamo.endpoint(),
    DATA_DIR: dirs[2].path,
    MEMORY_API_KEYS: FAULT_KEY,
    PORT: String(port),
    KEY_PREFIX,
    QUEUE_PREFIX,
    DYNAMODB_TABLE: TABLE,
    CADENCE_SCHEDULES: "off",
    WORKER_STALLED_INTERVAL_MS: "1000",
    WORKER_LOCK_DURATION_MS: "5000",
    WORKER_CONCURRENCY: "4",
    WRITE_WAIT_MS: "20000",
    READY_TIMEOUT_MS: "1500",
    RATE_LIMIT_PER_KEY: "0",
    RATE_LIMIT_PER_USER: "0",
    EMBED_DEBOUNCE_MS: "100",
    LOG_LEVEL: "warn",
    ...opts.env,
  };
  const r = new Redis(redis.url(), { maxRetriesPerRequest: 1 });
  r.on("error", () => {});
  const store = new DynamoStore(createDynamo(dynamo.endpoint(), "us-east-1"), TABLE);
  const hot = new HotStore(r, KEY_PREFIX);
  const queues = new Map<string, Queue>();
  const workers: WorkerProc[] = [];
  const procs: Proc[] = [];
  const named = new Map<Proc, string>();

  const startWorker = async (qs: string[]): Promise<WorkerProc> => {
    const opsPort = await freePort();
    const proc = run(process.execPath, tsxArgs("src/worker-main.ts", qs), {
      ...env,
      OPS_PORT: String(opsPort),
    });
    procs.push(proc);
    named.set(proc, `worker ${workers.length} (${qs.join(" ")})`);
    const w = { proc, queues: qs, opsPort };
    workers.push(w);
    await until(
      `worker ${qs.join(" ")} up`,
      async () => (await fetch(`http://127.0.0.1:${opsPort}/healthz`)).ok,
      90_000,
    );
    return w;
  };

  const api = run(
    process.execPath,
    tsxArgs(opts.api === "main" ? "src/main.ts" : "src/api-main.ts"),
    opts.api === "main" ? { ...env } : env,
  );
  procs.push(api);
  named.set(api, "api");
  const base = `http://127.0.0.1:${port}`;
  try {
    await Promise.all([
      until("api up", async () => (await fetch(`${base}/healthz`)).ok, 90_000),
      ...(
        opts.workers ?? [
          ["persist", "embed"],
          ["persist", "embed"],
        ]
      ).map((qs) => startWorker(qs)),
    ]);
  } catch (err) {
    // Nothing left running when the cluster never came up.
    for (const p of procs) await p.kill("SIGKILL");
    r.disconnect();
    await redis.stop();
    await dynamo.stop();
    for (const d of dirs) d.remove();
    throw new Error(`${(err as Error).message}\n${procs.map((p) => p.output().slice(-2000)).join("\n")}`);
  }

  const call = async (method: string, path: string, body?: unknown, timeoutMs = 25_000) => {
    try {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${FAULT_KEY}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {}
      return { status: res.status, body: parsed };
    } catch (err) {
      return { status: 0, body: { error: String(err) } };
    }
  };

  const queue = (name: string) => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: r, prefix: QUEUE_PREFIX });
      q.on("error", () => {});
      queues.set(name, q);
    }
    return q;
  };

  return {
    base,
    redis,
    dynamo,
    api,
    workers,
    env,
    r,
    store,
    hot,
    startWorker,
    call,
    queue,
    drained: async (names, timeoutMs = 120_000) => {
      await until(
        `${names.join(", ")} drained`,
        async () => {
          for (const n of names) {
            const c = await queue(n).getJobCounts("wait", "active", "delayed", "prioritized");
            if (Object.values(c).some((x) => x > 0)) return false;
          }
          return true;
        },
        timeoutMs,
      );
    },
    jobsDone: async (w, q, outcome = "completed") => {
      const text = await (await fetch(`http://127.0.0.1:${w.opsPort}/metrics`)).text();
      const line = text
        .split("\n")
        .find(
          (l) =>
            l.includes("_job_duration_seconds_count{") &&
            l.includes(`queue="${q}"`) &&
            l.includes(`outcome="${outcome}"`),
        );
      return line ? Number(line.split(" ").pop()) : 0;
    },
    logs: () => procs.map((p) => `--- ${named.get(p)}\n${p.output().slice(-4000)}`).join("\n"),
    cleanup: async () => {
      for (const p of procs) await p.kill("SIGKILL");
      for (const q of queues.values()) await q.close().catch(() => {});
      r.disconnect();
      await redis.stop();
      await dynamo.stop();
      for (const d of dirs) d.remove();
    },
  };
}

/** An API call of `c` and how long its answer took, in ms (status 0 when it could not complete). */
export async function timedCall(
  c: Cluster,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs?: number,
): Promise<CallResult & { ms: number }> {
  const t0 = performance.now();
  const r = await c.call(method, path, body, timeoutMs);
  return { ...r, ms: performance.now() - t0 };
}

/** GET /readyz of the API (`w` omitted) or of one worker process (its OPS_PORT). */
export async function readyz(c: Cluster, w?: WorkerProc): Promise<CallResult> {
  const res = await fetch(w ? `http://127.0.0.1:${w.opsPort}/readyz` : `${c.base}/readyz`, {
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.json() };
}

/** One entry of a queue's BullMQ event stream; `at` is the entry's Redis time (epoch ms). */
export interface QueueEvent {
  at: number;
  event: string;
  jobId?: string;
  fields: Record<string, string>;
}

/** The whole event stream of a queue, oldest first (BullMQ keeps the last ~10,000 entries). */
export async function queueEvents(c: Cluster, queue: string): Promise<QueueEvent[]> {
  const entries = (await c.r.xrange(`${QUEUE_PREFIX}:${queue}:events`, "-", "+")) as [string, string[]][];
  return entries.map(([id, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
    return { at: Number(id.split("-")[0]), event: fields.event ?? "", jobId: fields.jobId, fields };
  });
}
