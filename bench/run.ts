import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { startTestSystem, TEST_KEY } from "../test/support/system.js";
import { measure, type Row, ratio, type Stats } from "./stats.js";

/**
 * `npm run bench [-- --quick]`: each figure beside its raw baseline, measured in the same run
 * against the same Redis and the same dynalite. Results: table on stdout + bench/results/*.json.
 */
const quick = process.argv.includes("--quick");
const N = quick ? 400 : 3000;
const C = 16;
const rows: Row[] = [];

const profile = { name: "Ana Example", timezone: "Europe/Paris", locale: "fr-FR", email: "ana@example.com" };

function row(benchmark: string, ours: Stats, baseline: Stats, baseline_name: string) {
  rows.push({ benchmark, ours, baseline, baseline_name, ratio: ratio(ours, baseline) });
  console.log(
    `${benchmark.padEnd(44)} ours p50 ${String(ours.p50_ms).padStart(7)} ms p99 ${String(ours.p99_ms).padStart(7)} ms ${String(ours.ops_per_s).padStart(6)}/s | ${baseline_name}: p50 ${baseline.p50_ms} ms p99 ${baseline.p99_ms} ms ${baseline.ops_per_s}/s | ${ratio(ours, baseline)}`,
  );
}

const t = await startTestSystem({ env: { WRITE_WAIT_MS: "60000", CADENCE_SCHEDULES: "off" } });
const { system, config } = t;
const headers = { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" };
const http = (method: string, path: string, body?: unknown) =>
  fetch(`${t.url}${path}`, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) }).then(
    async (r) => {
      await r.arrayBuffer();
      if (r.status >= 300 && r.status !== 202) throw new Error(`${method} ${path}: ${r.status}`);
    },
  );
const redis = new Redis(config.REDIS_URL);

try {
  // 1. Ingress (wait=false) vs raw queue.add of the same payload.
  const rawQueue = new Queue("bench-raw", { connection: redis, prefix: config.QUEUE_PREFIX });
  const base1 = await measure(N, C, (i) =>
    rawQueue.add("persist", {
      op: "put",
      element: "profile",
      user_id: `b${i % 50}`,
      seq: i + 1,
      data: profile,
    }),
  );
  const ours1 = await measure(N, C, (i) => http("PUT", `/v1/users/i${i % 50}/profile?wait=false`, profile));
  row("1 ingress write (wait=false)", ours1, base1, "raw queue.add");

  // 2. Persist worker jobs/s vs a no-op processor on the same queue settings.
  const drain = async (name: string, processor: (j: unknown) => Promise<unknown>, jobs: number) => {
    const q = new Queue(name, { connection: redis, prefix: config.QUEUE_PREFIX });
    await q.addBulk(
      Array.from({ length: jobs }, (_, i) => ({
        name: "persist",
        data: {
          op: "put",
          element: "profile",
          user_id: `w${i % 100}`,
          seq: Date.now() * 1000 + i,
          data: profile,
        },
        opts: { removeOnComplete: true },
      })),
    );
    const conn = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
    const t0 = performance.now();
    const w = new Worker(name, processor as never, {
      connection: conn,
      prefix: config.QUEUE_PREFIX,
      concurrency: config.WORKER_CONCURRENCY,
    });
    const left = async () => {
      const c = await q.getJobCounts("wait", "active", "prioritized");
      return (c.wait ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0);
    };
    while ((await left()) > 0) await new Promise((r) => setTimeout(r, 20));
    const ms = performance.now() - t0;
    await w.close();
    await conn.quit();
    await q.obliterate({ force: true });
    await q.close();
    return {
      n: jobs,
      ops_per_s: Math.round((jobs / ms) * 1000),
      p50_ms: Math.round((ms / jobs) * 1000) / 1000,
      p99_ms: 0,
    };
  };
  const { createPersistProcessor } = await import("../workers/persist.js");
  const persistFn = createPersistProcessor({ store: system.deps.store, hot: system.deps.hot });
  const base2 = await drain("bench-noop", async () => null, N);
  const ours2 = await drain("bench-persist", persistFn as never, N);
  row("2 persist worker throughput", ours2, base2, "no-op processor");

  // 3. End-to-end write (HTTP, wait) vs raw HSET + PutItem of the same document.
  const db = (system.deps.store as unknown as { db: { send: (c: unknown) => Promise<unknown> } }).db;
  const base3 = await measure(N, C, async (i) => {
    await redis.hset(`${config.KEY_PREFIX}:bench:${i % 50}`, {
      name: profile.name,
      timezone: profile.timezone,
    });
    await db.send(
      new PutCommand({
        TableName: config.DYNAMODB_TABLE,
        Item: { pk: `BENCH#${i % 50}`, sk: "P", ...profile },
      }),
    );
  });
  const ours3 = await measure(N, C, (i) => http("PUT", `/v1/users/e${i % 50}/profile`, profile));
  row("3 end-to-end write (wait for 2xx)", ours3, base3, "raw HSET + PutItem");

  // 4. Warm context vs one raw pipelined round trip for the same keys.
  const U = "ctxuser";
  await http("PUT", `/v1/users/${U}/profile`, profile);
  await http("PUT", `/v1/users/${U}/preferences`, {
    food_preferences: ["ramen", "tapas"],
    hobby_preferences: ["climbing"],
  });
  await http("PUT", `/v1/users/${U}/state`, { mood: "focused", focus_areas: ["work"] });
  for (let i = 0; i < 10; i++)
    await http("POST", `/v1/users/${U}/goals`, { title: `Goal ${i}`, priority: (i % 5) + 1 });
  for (let i = 0; i < 20; i++)
    await http("POST", `/v1/users/${U}/todos`, { text: `Todo ${i}`, due_date: "2026-12-01" });
  const keys = await redis.keys(`${config.KEY_PREFIX}:{${U}}:doc:*`);
  const base4 = await measure(N, C, async () => {
    const p = redis.pipeline();
    for (const k of keys) p.hgetall(k);
    await p.exec();
  });
  const ours4 = await measure(N, C, () => http("GET", `/v1/users/${U}/context`));
  row(`4 warm context (${keys.length} docs)`, ours4, base4, "raw pipelined HGETALL");
  const ours4q = await measure(N, C, () => http("GET", `/v1/users/${U}/context?query=climbing`));
  row("4b warm context with ?query= (local index)", ours4q, base4, "raw pipelined HGETALL");

  // 5. Cold context (hot tier flushed before each read) vs raw DynamoDB Query of the partition.
  const coldN = Math.min(N, 200);
  const base5 = await measure(coldN, 1, () =>
    db.send(
      new QueryCommand({
        TableName: config.DYNAMODB_TABLE,
        KeyConditionExpression: "pk = :p",
        ExpressionAttributeValues: { ":p": `USER#${U}` },
      }),
    ),
  );
  const ours5 = await measure(coldN, 1, async () => {
    await system.deps.hot.forgetUser(U);
    await http("GET", `/v1/users/${U}/context`);
  });
  row("5 cold context (flushed hot tier, +SCAN/UNLINK)", ours5, base5, "raw DynamoDB Query");

  // 6. Scale: Redis bytes per user for a realistic user (the one above).
  let bytes = 0;
  for (const k of await redis.keys(`${config.KEY_PREFIX}:{${U}}:*`))
    bytes += Number(await redis.memory("USAGE", k));
  console.log(`6 Redis bytes for one user with profile, preferences, state, 10 goals, 20 to-dos: ${bytes}`);

  const machine = {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model,
    mem_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  mkdirSync("bench/results", { recursive: true });
  const file = `bench/results/${quick ? "quick" : "full"}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
  writeFileSync(
    file,
    JSON.stringify({ quick, n: N, concurrency: C, machine, rows, redis_bytes_per_user: bytes }, null, 2),
  );
  console.log(`written ${file}`);
  await rawQueue.obliterate({ force: true });
  await rawQueue.close();
} finally {
  await redis.quit();
  await t.stop();
}
