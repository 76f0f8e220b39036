import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import autocannon from "autocannon";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { DEFAULT_JOB_OPTIONS } from "../queues/options.js";
import { startSystem } from "../src/app/system.js";
import { loadConfig } from "../src/config/config.js";
import { createDynamo } from "../src/infra/dynamo.js";
import { createBlockingRedis } from "../src/infra/redis.js";
import { HotStore } from "../src/repositories/redis-hot.js";
import {
  DynaliteProc,
  freePort,
  type Proc,
  RedisProc,
  run,
  sleep,
  tempDir,
  until,
} from "../test/support/procs.js";
import { measure, percentiles, type Stats } from "./stats.js";
import { SYNTHETIC, syntheticUser } from "./synthetic.js";

/**
 * `npm run bench [-- --quick]`: each figure beside its raw baseline, measured in the same run
 * on the same engines: a Redis and a dynalite started for the run (nothing shared with other
 * work on the machine), the API as its own process driven by autocannon, and the persist
 * worker with the same BullMQ settings as a no-op worker. Table on stdout + bench/results/*.json.
 */
const quick = process.argv.includes("--quick");
const N = quick ? 400 : 4000;
const C = 16;
const ROUNDS = quick ? 3 : 5;
const SCALES = quick ? [1_000, 5_000] : [1_000, 10_000, 100_000];
const KEY = "bench-service-key";
const KEY_PREFIX = "bm";
const QUEUE_PREFIX = "bq";
const TABLE = "bench_memory";
const t0 = performance.now();

interface Row {
  id: string;
  figure: string;
  ours: Stats;
  baseline: Stats;
  baseline_name: string;
  note?: string;
}
const rows: Row[] = [];
const scale: {
  users: number;
  bytes_per_user: number;
  used_memory_mb: number;
  ours: Stats;
  baseline: Stats;
}[] = [];

const profile = { name: "Ana Example", timezone: "Europe/Paris", locale: "fr-FR", email: "ana@example.com" };
const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
const log = (s: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${s}`);

/** autocannon against the API process: `amount` requests, C connections; path chosen per request. */
async function cannon(
  base: string,
  method: "GET" | "PUT" | "POST",
  path: (i: number) => string,
  amount: number,
  body?: unknown,
  expectStatus = 200,
  warmUp = false,
): Promise<Stats> {
  // Unmeasured first pass: JIT and connection set-up in the API process stay out of the figure.
  if (warmUp) await cannon(base, method, path, Math.ceil(amount / 4), body, expectStatus);
  let i = 0;
  const s = performance.now();
  let last = s;
  const r = await new Promise<autocannon.Result>((res, rej) => {
    const run = autocannon(
      {
        url: base,
        connections: C,
        amount,
        requests: [
          {
            method,
            headers,
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            setupRequest: (req) => ({ ...req, path: path(i++) }),
          },
        ],
      },
      (err, result) => (err ? rej(err) : res(result)),
    );
    // autocannon ends a run on its one-second tick: throughput runs to the last response instead.
    run.on("response", () => {
      last = performance.now();
    });
  });
  const bad = r.non2xx + r.errors + r.timeouts;
  if (bad > 0 || (r.statusCodeStats as Record<string, unknown>)[String(expectStatus)] === undefined)
    throw new Error(`${method} ${path(0)}: ${bad} bad answers ${JSON.stringify(r.statusCodeStats)}`);
  return {
    n: r.requests.total,
    ops_per_s: Math.round((r.requests.total / (last - s)) * 1000),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
  };
}

function row(id: string, figure: string, ours: Stats, baseline: Stats, baseline_name: string, note?: string) {
  rows.push({ id, figure, ours, baseline, baseline_name, ...(note ? { note } : {}) });
  log(
    `${id} ${figure}: ours p50 ${ours.p50_ms} p99 ${ours.p99_ms} ms ${ours.ops_per_s}/s | ${baseline_name}: p50 ${baseline.p50_ms} p99 ${baseline.p99_ms} ms ${baseline.ops_per_s}/s`,
  );
}

const dirs = [tempDir("bench-redis"), tempDir("bench-dyn"), tempDir("bench-data")] as const;
const redisProc = new RedisProc(await freePort(), dirs[0].path, false);
const dynamo = new DynaliteProc(await freePort(), dirs[1].path);
const procs: Proc[] = [];
await redisProc.start();
await dynamo.start();
const port = await freePort();
const env: Record<string, string> = {
  REDIS_URL: redisProc.url(),
  DYNAMODB_ENDPOINT: dynamo.endpoint(),
  DATA_DIR: dirs[2].path,
  MEMORY_API_KEYS: KEY,
  PORT: String(port),
  KEY_PREFIX,
  QUEUE_PREFIX,
  DYNAMODB_TABLE: TABLE,
  CADENCE_SCHEDULES: "off",
  RATE_LIMIT_PER_KEY: "0",
  RATE_LIMIT_PER_USER: "0",
  WRITE_WAIT_MS: "60000",
  LOG_LEVEL: "error",
};
const config = loadConfig(env);
const base = `http://127.0.0.1:${port}`;
const redis = new Redis(redisProc.url());
const db = createDynamo(dynamo.endpoint(), "us-east-1");
const hot = new HotStore(redis, KEY_PREFIX);

try {
  const api = run(process.execPath, ["--import", "tsx", "src/api-main.ts"], env);
  procs.push(api);
  await until("api up", async () => (await fetch(`${base}/healthz`)).ok, 90_000);
  log("API process up (no workers yet)");

  // 1. Ingress, wait=false, no worker running (the jobs wait for figure 2) vs raw queue.add.
  const raw = new Queue("persist-raw", {
    connection: redis,
    prefix: QUEUE_PREFIX,
    defaultJobOptions: DEFAULT_JOB_OPTIONS,
  });
  let seq = 0;
  const base1 = await measure(
    N,
    C,
    (i) =>
      raw.add(
        "persist",
        { op: "put", element: "profile", user_id: `i${i % 50}`, seq: ++seq, data: profile },
        { jobId: randomUUID() },
      ),
    true,
  );
  const ours1 = await cannon(
    base,
    "PUT",
    (i) => `/v1/users/i${i % 50}/profile?wait=false`,
    N,
    profile,
    202,
    true,
  );
  row("1", "ingress write, ?wait=false", ours1, base1, "raw queue.add");
  // Floors: the same cannon against a process that only reads the body and calls queue.add,
  // so the table shows how much of the gap is HTTP itself and how much is ours.
  for (const [id, floor, figure] of [
    ["1e", "express", "floor: Express + express.json + queue.add"],
    ["1n", "node", "floor: node:http + queue.add"],
  ] as const) {
    const floorPort = await freePort();
    const proc = run(process.execPath, ["--import", "tsx", "bench/floor-server.ts"], {
      ...env,
      FLOOR: floor,
      PORT: String(floorPort),
    });
    const floorBase = `http://127.0.0.1:${floorPort}`;
    await until(`${floor} floor up`, async () => (await fetch(`${floorBase}/healthz`)).ok, 90_000);
    const stats = await cannon(
      floorBase,
      "PUT",
      (i) => `/v1/users/i${i % 50}/profile`,
      N,
      profile,
      202,
      true,
    );
    await proc.kill("SIGKILL");
    row(id, figure, stats, base1, "raw queue.add");
  }

  // 2. Persist worker (the real processor and deps, startSystem) vs a no-op processor with the
  // same BullMQ settings, each draining the N jobs figure 1 queued.
  const persistQ = new Queue("persist", { connection: redis, prefix: QUEUE_PREFIX });
  const drain = async (q: Queue, start: () => Promise<() => Promise<void>>): Promise<Stats> => {
    await q.pause();
    const stop = await start();
    const jobs = await q.getWaitingCount();
    const s = performance.now();
    await q.resume();
    await until(
      `${q.name} drained`,
      async () => (await q.getWaitingCount()) + (await q.getActiveCount()) === 0,
      600_000,
    );
    const ms = performance.now() - s;
    await stop();
    return { n: jobs, ops_per_s: Math.round((jobs / ms) * 1000), p50_ms: 0, p99_ms: 0 };
  };
  const base2 = await drain(raw, async () => {
    const conn = createBlockingRedis(redisProc.url());
    const w = new Worker("persist-raw", async () => null, {
      connection: conn,
      prefix: QUEUE_PREFIX,
      concurrency: config.WORKER_CONCURRENCY,
      stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
      lockDuration: config.WORKER_LOCK_DURATION_MS,
      maxStalledCount: 3,
    });
    await w.waitUntilReady();
    return async () => {
      await w.close();
      conn.disconnect();
    };
  });
  const ours2 = await drain(persistQ, async () => {
    const sys = await startSystem(config, { api: false, workers: ["persist"] });
    return () => sys.close();
  });
  row("2", "persist worker jobs/s (drain)", ours2, base2, "no-op BullMQ processor");

  const workerPort = await freePort();
  const worker = run(process.execPath, ["--import", "tsx", "src/worker-main.ts", "persist", "embed"], {
    ...env,
    OPS_PORT: String(workerPort),
  });
  procs.push(worker);
  await until("worker up", async () => (await fetch(`http://127.0.0.1:${workerPort}/healthz`)).ok, 90_000);
  log("worker process up (persist, embed)");

  // 3. End-to-end write (HTTP 200 once stored in both tiers) vs raw HSET + PutItem.
  const n3 = Math.round(N / 2);
  const base3 = await measure(
    n3,
    C,
    async (i) => {
      await redis.hset(`${KEY_PREFIX}:{raw${i % 50}}:doc:profile:self`, {
        _rev: String(i),
        name: JSON.stringify(profile.name),
        timezone: JSON.stringify(profile.timezone),
        locale: JSON.stringify(profile.locale),
        email: JSON.stringify(profile.email),
      });
      await db.send(
        new PutCommand({
          TableName: TABLE,
          Item: { pk: `USER#raw${i % 50}`, sk: "DOC#profile#self", ...profile },
        }),
      );
    },
    true,
  );
  const ours3 = await cannon(base, "PUT", (i) => `/v1/users/e${i % 50}/profile`, n3, profile, 200, true);
  row("3", "end-to-end write (wait for 2xx)", ours3, base3, "raw HSET + PutItem");

  // 4. Warm context of a realistic user vs one raw pipelined round trip fetching the same keys.
  const U = "ctxuser";
  const api4 = async (method: string, path: string, body: unknown) => {
    const r = await fetch(`${base}${path}`, { method, headers, body: JSON.stringify(body) });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status}`);
    return r.json();
  };
  await api4("PUT", `/v1/users/${U}/profile`, profile);
  await api4("PUT", `/v1/users/${U}/preferences`, {
    food_preferences: ["ramen", "tapas"],
    hobby_preferences: ["climbing", "chess"],
    occupation: "architect",
  });
  await api4("PUT", `/v1/users/${U}/state`, { mood: "focused", focus_areas: ["work"] });
  for (let i = 0; i < 10; i++) {
    const g = (await api4("POST", `/v1/users/${U}/goals`, { title: `Goal ${i}`, priority: (i % 5) + 1 })) as {
      goal_id: string;
    };
    for (let p = 0; p < 2; p++)
      await api4("POST", `/v1/users/${U}/goals/${g.goal_id}/progress`, { note: `step ${p}` });
  }
  for (let i = 0; i < 20; i++)
    await api4("POST", `/v1/users/${U}/todos`, {
      text: `Todo ${i}: book the climbing gym`,
      due_date: "2026-12-01",
    });
  const soon = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString();
  for (let i = 0; i < 3; i++)
    await api4("POST", `/v1/users/${U}/events`, { summary: `Meeting ${i}`, start: soon(i + 1) });
  const embedQ = new Queue("embed", { connection: redis, prefix: QUEUE_PREFIX });
  await until("embeddings done", async () => {
    const c = await embedQ.getJobCounts("wait", "active", "delayed");
    return Object.values(c).every((x) => x === 0);
  });
  const keys = (await redis.keys(`${KEY_PREFIX}:{${U}}:doc:*`)).sort();
  const pipelined = (ks: string[]) => async () => {
    const p = redis.pipeline();
    for (const k of ks) p.hgetall(k);
    await p.exec();
  };
  const base4 = await measure(N, C, pipelined(keys), true);
  const ours4 = await cannon(base, "GET", () => `/v1/users/${U}/context`, N, undefined, 200, true);
  row("4", `warm context (${keys.length} documents)`, ours4, base4, "raw pipelined HGETALL");
  const ours4q = await cannon(
    base,
    "GET",
    () => `/v1/users/${U}/context?query=climbing`,
    N,
    undefined,
    200,
    true,
  );
  row("4q", "warm context ?query= (local index)", ours4q, base4, "raw pipelined HGETALL");

  // 5. Cold context: the user's hot keys dropped before each (untimed), vs raw DynamoDB Query.
  const n5 = quick ? 100 : 500;
  const coldLat: number[] = [];
  const s5 = performance.now();
  for (let i = 0; i < n5; i++) {
    await hot.forgetUser(U);
    const s = performance.now();
    const r = await fetch(`${base}/v1/users/${U}/context`, { headers });
    await r.arrayBuffer();
    coldLat.push(performance.now() - s);
    if (r.status !== 200) throw new Error(`cold context: ${r.status}`);
  }
  const ours5 = percentiles(coldLat, n5, performance.now() - s5);
  const base5 = await measure(n5, 1, async () => {
    let start: Record<string, unknown> | undefined;
    do {
      const r = await db.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: "pk = :p",
          ExpressionAttributeValues: { ":p": `USER#${U}` },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      start = r.LastEvaluatedKey;
    } while (start);
  });
  row("5", "cold context (hot tier dropped)", ours5, base5, "raw DynamoDB Query of the partition");

  // 6. Scale: synthetic users straight into the hot tier; bytes per user and warm p99.
  let loaded = 0;
  const now = new Date();
  const docsPer = 4 + SYNTHETIC.goals + SYNTHETIC.todos + SYNTHETIC.events;
  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1] ?? 0);
  const mem0 = await usedMemory();
  for (const users of SCALES) {
    for (let b = loaded; b < users; b += 2000) {
      const batch = Array.from({ length: Math.min(2000, users - b) }, (_, k) => b + k);
      // Steady state: the user's digest lookup is cached too ("none today", as digest-store writes it).
      await Promise.all(
        batch.map(async (n) => {
          await hot.refill(`s${n}`, syntheticUser(`s${n}`, n, now));
          await redis.set(`${hot.base(`s${n}`)}digest`, '{"none":true}');
        }),
      );
    }
    loaded = users;
    await sleep(quick ? 500 : 2000); // let the loader's garbage be collected before measuring
    let bytes = 0;
    const sample = quick ? 20 : 50;
    for (let k = 0; k < sample; k++) {
      const u = `s${Math.floor((k * users) / sample)}`;
      for (const key of await redis.keys(`${KEY_PREFIX}:{${u}}:*`))
        bytes += Number(await redis.memory("USAGE", key, "SAMPLES", "0"));
    }
    const pick = () => Math.floor(Math.random() * users);
    const docIds = syntheticUser("x", 0, now).map((d) => [d.element, d.id] as const);
    // Rounds (5, or 3 with --quick), ours and raw alternating; the round with the median p99 is reported.
    const oursRuns: Stats[] = [];
    const baseRuns: Stats[] = [];
    for (let k = 0; k < ROUNDS; k++) {
      oursRuns.push(
        await cannon(base, "GET", () => `/v1/users/s${pick()}/context`, N, undefined, 200, k === 0),
      );
      baseRuns.push(
        await measure(N, C, () => {
          const u = `s${pick()}`;
          const p = redis.pipeline();
          for (const [el, id] of docIds) p.hgetall(hot.docKey(u, el, id));
          return p.exec();
        }),
      );
    }
    const median = (xs: Stats[]) =>
      [...xs].sort((a, b) => a.p99_ms - b.p99_ms)[Math.floor(ROUNDS / 2)] as Stats;
    const ours6 = median(oursRuns);
    const base6 = median(baseRuns);
    const used = ((await usedMemory()) - mem0) / 2 ** 20;
    scale.push({
      users,
      bytes_per_user: Math.round(bytes / sample),
      used_memory_mb: Math.round(used),
      ours: ours6,
      baseline: base6,
    });
    log(
      `6 scale ${users} users (${docsPer} documents each): ${Math.round(bytes / sample)} bytes/user (MEMORY USAGE), ` +
        `${Math.round(used)} MiB used_memory; warm context p50 ${ours6.p50_ms} p99 ${ours6.p99_ms} ms | raw pipeline p99 ${base6.p99_ms} ms`,
    );
  }

  const info = await redis.info("server");
  const machine = {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model,
    mem_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    redis: /redis_version:(\S+)/.exec(info)?.[1],
    dynamodb: "dynalite 4 (own process, on disk)",
  };
  const lat = (x: Stats) => (x.p50_ms || x.p99_ms ? `${x.p50_ms} / ${x.p99_ms}` : "-");
  const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : null);
  const targets = {
    ingress_throughput_vs_queue_add: { value: ratio(ours1.ops_per_s, base1.ops_per_s), target: ">= 0.5" },
    ingress_throughput_vs_express_floor: {
      value: ratio(ours1.ops_per_s, rows.find((r) => r.id === "1e")?.ours.ops_per_s ?? 0),
      target: "(explains the first: Express itself is the ceiling)",
    },
    warm_context_p99_vs_raw_pipeline: { value: ratio(ours4.p99_ms, base4.p99_ms), target: "<= 3" },
    context_p99_change_across_scales: {
      value: ratio(scale.at(-1)?.ours.p99_ms ?? 0, scale[0]?.ours.p99_ms ?? 0),
      target: "0.8 - 1.2",
    },
    raw_pipeline_p99_change_across_scales: {
      value: ratio(scale.at(-1)?.baseline.p99_ms ?? 0, scale[0]?.baseline.p99_ms ?? 0),
      target: "(how much Redis itself grows)",
    },
  };
  console.log(`\nmachine: ${JSON.stringify(machine)}; N=${N}, ${C} concurrent\n`);
  console.log(
    "| # | figure | ours p50 / p99 ms | ours /s | baseline | baseline p50 / p99 ms | baseline /s | p50 ratio | p99 ratio |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const r of rows)
    console.log(
      `| ${r.id} | ${r.figure} | ${lat(r.ours)} | ${r.ours.ops_per_s} | ${r.baseline_name} | ${lat(r.baseline)} | ${r.baseline.ops_per_s} | ${ratio(r.ours.p50_ms, r.baseline.p50_ms) ?? "-"} | ${ratio(r.ours.p99_ms, r.baseline.p99_ms) ?? "-"} |`,
    );
  console.log(
    "\n| users | Redis bytes/user | used_memory MiB | warm context p50 / p99 ms | raw pipeline p50 / p99 ms |",
  );
  console.log("|---|---|---|---|---|");
  for (const s of scale)
    console.log(
      `| ${s.users} | ${s.bytes_per_user} | ${s.used_memory_mb} | ${s.ours.p50_ms} / ${s.ours.p99_ms} | ${s.baseline.p50_ms} / ${s.baseline.p99_ms} |`,
    );
  console.log(`\ntargets: ${JSON.stringify(targets)}`);
  mkdirSync("bench/results", { recursive: true });
  const file = `bench/results/${quick ? "quick" : "full"}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
  writeFileSync(
    file,
    JSON.stringify(
      {
        quick,
        n: N,
        concurrency: C,
        machine,
        rows,
        scale,
        targets,
        seconds: Math.round((performance.now() - t0) / 1000),
      },
      null,
      2,
    ),
  );
  log(`written ${file}`);
  await raw.close();
  await persistQ.close();
  await embedQ.close();
} finally {
  for (const p of procs) await p.kill("SIGTERM");
  redis.disconnect();
  db.destroy();
  await redisProc.stop("SIGTERM");
  await dynamo.stop();
  for (const d of dirs) d.remove();
}
