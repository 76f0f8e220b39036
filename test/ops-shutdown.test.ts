import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { QUEUE_NAMES } from "../queues/names.js";
import { type System, startSystem } from "../src/app/system.js";
import { loadConfig } from "../src/config/config.js";
import { freePort, sample, until } from "./support/ops.js";

const KEY = "shutdown-test-key";
const ROOT = join(import.meta.dirname, "..");
const redisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * Runs an entry point the way Procfile and docker-compose.yml do: `node --import tsx …`, one
 * process, so SIGTERM reaches the app. (`npx`/`npm start` die on SIGTERM without forwarding it.)
 */
function run(entry: string, args: string[], env: Record<string, string>) {
  const child = spawn("node", ["--import", "tsx", entry, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = { text: "" };
  child.stdout?.on("data", (d) => {
    out.text += String(d);
  });
  child.stderr?.on("data", (d) => {
    out.text += String(d);
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((res) =>
    child.once("exit", (code, signal) => res({ code, signal })),
  );
  return { child, out, exited };
}

function isolatedEnv(dataDir: string) {
  const id = randomBytes(4).toString("hex");
  return {
    REDIS_URL: redisUrl,
    DATA_DIR: dataDir,
    MEMORY_API_KEYS: KEY,
    DYNALITE_PORT: "0",
    KEY_PREFIX: `s${id}`,
    QUEUE_PREFIX: `sq${id}`,
    DYNAMODB_TABLE: `shutdown_${id}`,
    SHUTDOWN_GRACE_MS: "60000",
    LOG_LEVEL: "info",
  };
}

async function dropKeys(prefixes: string[]) {
  const r = new Redis(redisUrl);
  for (const prefix of prefixes) {
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await r.unlink(...keys);
    } while (cursor !== "0");
  }
  await r.quit();
}

/** Jobs whose "job completed" line comes after the "shutting down" line. */
const finishedAfterSignal = (log: string) => {
  const lines = log.split("\n");
  const at = lines.findIndex((l) => l.includes('"msg":"shutting down"'));
  return at < 0 ? 0 : lines.slice(at).filter((l) => l.includes('"msg":"job completed"')).length;
};

const putProfile = (base: string, user: string, name: string, wait: boolean) =>
  fetch(`${base}/v1/users/${user}/profile${wait ? "" : "?wait=false"}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });

describe("graceful shutdown", () => {
  const children: ChildProcess[] = [];
  const systems: System[] = [];
  const cleanup: { dir: string; prefixes: string[] }[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    for (const s of systems) await s.close();
    for (const c of cleanup) {
      await dropKeys(c.prefixes);
      rmSync(c.dir, { recursive: true, force: true });
    }
  });

  it("src/main.ts: SIGTERM exits 0, leaves no job active, and loses no acknowledged write", async () => {
    const WRITES = 60;
    const dataDir = mkdtempSync(join(tmpdir(), "cm-shutdown-"));
    const env = { ...isolatedEnv(dataDir), WORKER_CONCURRENCY: "2" };
    cleanup.push({ dir: dataDir, prefixes: [env.KEY_PREFIX, env.QUEUE_PREFIX] });
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const app = run("src/main.ts", [], { ...env, PORT: String(port) });
    children.push(app.child);
    await until("the API to answer", async () => (await fetch(`${base}/healthz`)).ok, 90_000);

    // Acknowledged writes (202 = queued), sent together so jobs are active when SIGTERM lands.
    const acks = await Promise.all(
      Array.from({ length: WRITES }, async (_, i) => {
        const res = await putProfile(base, `sd-${i}`, `Person ${i}`, false);
        expect(res.status).toBe(202);
        return {
          user: `sd-${i}`,
          name: `Person ${i}`,
          job: ((await res.json()) as { job_id: string }).job_id,
        };
      }),
    );
    expect(app.child.kill("SIGTERM")).toBe(true);
    const exit = await app.exited;
    expect(exit, app.out.text.slice(-3000)).toEqual({ code: 0, signal: null });
    expect(app.out.text).toContain('"msg":"shutting down"');
    await expect(fetch(`${base}/healthz`)).rejects.toThrow(); // no longer accepting

    // Nothing was cut off mid-job: each acknowledged job is done, or still waiting for the next start.
    const conn = new Redis(redisUrl);
    const q = new Queue("persist", { connection: conn, prefix: env.QUEUE_PREFIX });
    try {
      const counts = await q.getJobCounts("active", "failed", "completed", "waiting");
      expect(counts).toMatchObject({ active: 0, failed: 0 });
      expect((counts.completed ?? 0) + (counts.waiting ?? 0)).toBe(WRITES);
      if (process.env.SHUTDOWN_DEBUG)
        console.log("at exit", counts, "finished while stopping", finishedAfterSignal(app.out.text));
      for (const a of acks) expect(["completed", "waiting"]).toContain(await q.getJobState(a.job));

      // Restart on the same DATA_DIR, prefixes and table: the rest is applied and every write reads back.
      const config = loadConfig({ ...env, PORT: "0", LOG_LEVEL: "silent" });
      const again = await startSystem(config, {
        api: true,
        workers: ["persist"],
        log: pino({ level: "silent" }),
      });
      systems.push(again);
      await until("every acknowledged job to complete", async () => {
        const states = await Promise.all(acks.map((a) => q.getJobState(a.job)));
        return states.every((s) => s === "completed");
      });
      for (const a of acks) {
        const res = await fetch(`http://127.0.0.1:${again.port}/v1/users/${a.user}/profile`, {
          headers: { authorization: `Bearer ${KEY}` },
        });
        expect(res.status, a.user).toBe(200);
        expect(((await res.json()) as { name: string }).name).toBe(a.name);
      }
    } finally {
      await q.close();
      conn.disconnect();
    }
  }, 180_000);

  it("src/worker-main.ts persist: a worker-only process serves the queue, reports on OPS_PORT, exits 0", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "cm-worker-"));
    const env = isolatedEnv(dataDir);
    cleanup.push({ dir: dataDir, prefixes: [env.KEY_PREFIX, env.QUEUE_PREFIX] });

    // The API alone in this process (no workers), on an external dynalite both processes share.
    const api = await startSystem(loadConfig({ ...env, PORT: "0", LOG_LEVEL: "silent" }), {
      api: true,
      workers: [],
      log: pino({ level: "silent" }),
    });
    systems.push(api);
    const opsPort = await freePort();
    const worker = run("src/worker-main.ts", ["persist"], {
      ...env,
      DYNAMODB_ENDPOINT: api.dynamoEndpoint ?? "",
      WORKER_CONCURRENCY: "3",
      OPS_PORT: String(opsPort),
    });
    children.push(worker.child);
    const ops = `http://127.0.0.1:${opsPort}`;
    await until("the worker's ops server", async () => (await fetch(`${ops}/readyz`)).status === 200, 90_000);
    const up = JSON.parse(worker.out.text.split("\n").find((l) => l.includes('"workers are up"')) ?? "{}");
    expect(up).toMatchObject({ workers: ["persist"], concurrency: 3, ops_port: opsPort });

    const base = `http://127.0.0.1:${api.port}`;
    for (let i = 0; i < 5; i++)
      expect((await putProfile(base, `w-${i}`, `Worker ${i}`, true)).status).toBe(200);
    const metrics = await (await fetch(`${ops}/metrics`)).text();
    expect(
      sample(metrics, "memory_job_duration_seconds_count", { queue: "persist", outcome: "completed" }),
    ).toBe(5);

    worker.child.kill("SIGTERM");
    expect(await worker.exited, worker.out.text.slice(-3000)).toEqual({ code: 0, signal: null });

    const bad = run("src/worker-main.ts", ["no-such-queue"], env);
    children.push(bad.child);
    expect((await bad.exited).code).toBe(1);
    expect(bad.out.text).toContain(`unknown queue(s): no-such-queue; known: ${QUEUE_NAMES.join(", ")}`);
  }, 180_000);
});
