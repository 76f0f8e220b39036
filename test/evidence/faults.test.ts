import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import {
  DynaliteProc,
  freePort,
  type Proc,
  RedisProc,
  run,
  sleep,
  tempDir,
  until,
} from "../support/procs.js";

/**
 * Fault injection with real processes: an API process and two worker processes on their own
 * Redis (AOF, fsync always) and their own dynalite. After each fault every acknowledged write
 * must be present exactly once, in DynamoDB and in Redis after read-through.
 */
const KEY = "fault-key";
const U = "fault-user";

interface Cluster {
  base: string;
  redis: RedisProc;
  dynamo: DynaliteProc;
  api: Proc;
  workers: Proc[];
  env: Record<string, string>;
  cleanup: () => Promise<void>;
}

const tsx = (script: string, args: string[] = []) =>
  [process.execPath, ["--import", "tsx", script, ...args]] as const;

async function startCluster(): Promise<Cluster> {
  const dirs = [tempDir("redis"), tempDir("dyn"), tempDir("data")];
  const [rdir, ddir, data] = dirs as unknown as [{ path: string }, { path: string }, { path: string }];
  const redis = new RedisProc(await freePort(), rdir.path);
  await redis.start();
  const dynamo = new DynaliteProc(await freePort(), ddir.path);
  await dynamo.start();
  const port = await freePort();
  const env: Record<string, string> = {
    REDIS_URL: redis.url(),
    DYNAMODB_ENDPOINT: dynamo.endpoint(),
    DATA_DIR: data.path,
    MEMORY_API_KEYS: KEY,
    PORT: String(port),
    DYNAMODB_TABLE: "fault_memory",
    CADENCE_SCHEDULES: "off",
    WORKER_STALLED_INTERVAL_MS: "1000",
    WORKER_CONCURRENCY: "4",
    WRITE_WAIT_MS: "20000",
    RATE_LIMIT_PER_KEY: "0",
    RATE_LIMIT_PER_USER: "0",
    LOG_LEVEL: "warn",
  };
  const startWorker = () => {
    const [cmd, args] = tsx("src/worker-main.ts");
    return run(cmd, [...args], env);
  };
  const workers = [startWorker(), startWorker()];
  const [cmd, args] = tsx("src/api-main.ts");
  const api = run(cmd, [...args], env);
  const base = `http://127.0.0.1:${port}`;
  await until("api up", async () => (await fetch(`${base}/healthz`)).ok, 90_000);
  return {
    base,
    redis,
    dynamo,
    api,
    workers,
    env,
    cleanup: async () => {
      for (const p of [api, ...workers]) await p.kill("SIGKILL");
      await redis.stop();
      await dynamo.stop();
      for (const d of dirs) d.remove();
    },
  };
}

async function call(c: Cluster, method: string, path: string, body?: unknown) {
  const r = await fetch(`${c.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(25_000),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

/** Waits until the persist queue is drained, then checks both tiers hold every acknowledged write once. */
async function verify(c: Cluster, goalId: string, todos: string[], notes: string[]) {
  const r = new Redis(c.redis.url());
  r.on("error", () => {});
  try {
    await until(
      "persist queue drained",
      async () => {
        const [w, a, d, p] = await Promise.all([
          r.llen("bull:persist:wait"),
          r.llen("bull:persist:active"),
          r.zcard("bull:persist:delayed"),
          r.zcard("bull:persist:prioritized"),
        ]);
        return w + a + d + p === 0;
      },
      120_000,
    );
    expect(await r.zcard("bull:persist:failed")).toBe(0);
    // Redis after read-through: drop the user's hot tier, the next read refills it from DynamoDB.
    const check = async () => {
      const list = await call(c, "GET", `/v1/users/${U}/todos`);
      const texts = list.body.items.map((x: { text: string }) => x.text);
      for (const tx of todos)
        expect(
          texts.filter((x: string) => x === tx),
          tx,
        ).toHaveLength(1);
      const goal = await call(c, "GET", `/v1/users/${U}/goals/${goalId}`);
      const got = (goal.body.progress ?? []).map((p: { note: string }) => p.note);
      for (const n of notes)
        expect(
          got.filter((x: string) => x === n),
          n,
        ).toHaveLength(1);
    };
    await check();
    const keys = await r.keys(`mem:{${U}}:*`);
    if (keys.length) await r.del(...keys);
    await check();
  } finally {
    r.disconnect();
  }
}

describe("fault injection (real processes)", { timeout: 240_000 }, () => {
  let c: Cluster | undefined;
  afterEach(async () => {
    await c?.cleanup();
    c = undefined;
  });

  it("SIGKILL of a worker mid-burst: its stalled jobs finish on the other worker, nothing lost or doubled", async () => {
    c = await startCluster();
    const goal = await call(c, "POST", `/v1/users/${U}/goals`, { title: "Survive faults" });
    expect(goal.status).toBe(201);
    const todos: string[] = [];
    const notes: string[] = [];
    for (let i = 0; i < 120; i++) {
      const r =
        i % 2 === 0
          ? await call(c, "POST", `/v1/users/${U}/todos?wait=false`, { text: `kill todo ${i}` })
          : await call(c, "POST", `/v1/users/${U}/goals/${goal.body.goal_id}/progress?wait=false`, {
              note: `kill step ${i}`,
            });
      expect(r.status).toBe(202);
      (i % 2 === 0 ? todos : notes).push(i % 2 === 0 ? `kill todo ${i}` : `kill step ${i}`);
      if (i === 40) await c.workers[0]?.kill("SIGKILL");
    }
    await verify(c, goal.body.goal_id, todos, notes);
  });

  it("Redis killed and restarted (AOF) during a burst: 503 while down, acknowledged writes all present, workers resume", async () => {
    c = await startCluster();
    const goal = await call(c, "POST", `/v1/users/${U}/goals`, { title: "Survive Redis" });
    const todos: string[] = [];
    const t0 = Date.now();
    const statuses = new Map<number, number>();
    let restarted = false;
    for (let i = 0; i < 90; i++) {
      if (i === 30) await c.redis.stop("SIGKILL");
      if (i === 45) {
        await c.redis.start();
        restarted = true;
      }
      const r = await call(c, "POST", `/v1/users/${U}/todos?wait=false`, { text: `redis todo ${i}` }).catch(
        () => ({
          status: 0,
          body: undefined,
        }),
      );
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      expect([202, 503], `write ${i} answered ${r.status}`).toContain(r.status);
      if (r.status === 202) todos.push(`redis todo ${i}`);
      if (i >= 30 && i < 45) await sleep(50);
    }
    console.log(`burst done ${Date.now() - t0} ms`);
    expect(restarted).toBe(true);
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    // Recovered by itself: later writes are acknowledged and applied without restarting any process.
    const after = await until("a write with wait after the restart", async () => {
      const r = await call(c as Cluster, "POST", `/v1/users/${U}/todos`, { text: "after restart" });
      return r.status === 201 ? r : undefined;
    });
    console.log(`write after restart ok at ${Date.now() - t0} ms`);
    expect(after.body.text).toBe("after restart");
    todos.push("after restart");
    await verify(c, goal.body.goal_id, todos, []);
  });

  it("DynamoDB stopped during a burst: /readyz names it, persist retries, everything lands after it returns", async () => {
    c = await startCluster();
    const goal = await call(c, "POST", `/v1/users/${U}/goals`, { title: "Survive DynamoDB" });
    const todos: string[] = [];
    for (let i = 0; i < 60; i++) {
      if (i === 20) await c.dynamo.stop();
      const r = await call(c, "POST", `/v1/users/${U}/todos?wait=false`, { text: `dyn todo ${i}` });
      expect(r.status).toBe(202);
      todos.push(`dyn todo ${i}`);
    }
    const ready = await fetch(`${c.base}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toContain("dynamodb");
    await sleep(2000);
    await c.dynamo.start();
    await until("ready again", async () => (await fetch(`${(c as Cluster).base}/readyz`)).status === 200);
    await verify(c, goal.body.goal_id, todos, []);
  });
});
