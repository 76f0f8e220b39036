import { randomBytes } from "node:crypto";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUEUE_NAMES } from "../queues/names.js";
import { SCHEDULES, type ScheduleDecl } from "../queues/schedules.js";
import { reconcileSchedules } from "../src/cadence/schedulers.js";
import { startTestSystem, type TestSystem } from "./support/system.js";

const REDIS = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

async function wipe(r: Redis, prefix: string) {
  let cursor = "0";
  do {
    const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length) await r.unlink(...keys);
  } while (cursor !== "0");
}

describe("job schedulers: declared once, upserted idempotently", () => {
  const prefix = `tqs${randomBytes(4).toString("hex")}`;
  let redis: Redis;
  let queue: Queue;
  beforeAll(() => {
    redis = new Redis(REDIS, { maxRetriesPerRequest: null });
    queue = new Queue("cadence", { connection: redis, prefix });
  });
  afterAll(async () => {
    await queue.close();
    await wipe(redis, prefix);
    await redis.quit();
  });

  const tick = (repeat: ScheduleDecl["repeat"]): ScheduleDecl => ({
    id: "sched.cadence-tick",
    queue: "cadence",
    repeat,
    job: { name: "tick", data: { kind: "tick" } },
  });
  // No worker runs here: a scheduler's next job waits (every) or is delayed (pattern).
  const nextJobs = async () =>
    (await queue.getJobs(["delayed", "waiting", "prioritized"])).filter((j) => j.id?.startsWith("repeat:"));

  it("three concurrent reconciles create each schedule once, with one next job", async () => {
    // Separate connections, like three processes starting at once.
    const conns = [0, 1, 2].map(() => new Redis(REDIS, { maxRetriesPerRequest: null }));
    try {
      await Promise.all(conns.map((c) => reconcileSchedules(c, prefix, SCHEDULES, QUEUE_NAMES)));
    } finally {
      await Promise.all(conns.map((c) => c.quit()));
    }
    const schedulers = await queue.getJobSchedulers(0, -1, true);
    expect(schedulers.map((s) => s.key)).toEqual(["sched.cadence-tick"]);
    expect(schedulers[0]?.pattern).toBe("*/15 * * * *");
    expect(schedulers[0]?.tz).toBe("UTC");
    const next = await nextJobs();
    expect(next).toHaveLength(1);
    // The next tick is on a quarter hour, within the next 15 minutes.
    const at = (next[0]?.timestamp ?? 0) + (next[0]?.opts.delay ?? 0);
    expect(at % (15 * 60_000)).toBe(0);
    expect(at - Date.now()).toBeLessThanOrEqual(15 * 60_000);
  });

  it("a changed cadence replaces the old one: one scheduler, one next job, new timing", async () => {
    await reconcileSchedules(redis, prefix, [tick({ every: 3_600_000 })], QUEUE_NAMES);
    const schedulers = await queue.getJobSchedulers(0, -1, true);
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]?.every).toBe(3_600_000);
    expect(schedulers[0]?.pattern ?? null).toBeNull();
    expect(await nextJobs()).toHaveLength(1);
  });

  it("a scheduler no longer declared is removed (no orphans); unmanaged ids are left alone", async () => {
    await queue.upsertJobScheduler("someone-elses", { every: 60_000 }, { name: "x", data: {} });
    await reconcileSchedules(
      redis,
      prefix,
      [tick({ pattern: "0 * * * *" }), { ...tick({ every: 60_000 }), id: "sched.extra" }],
      QUEUE_NAMES,
    );
    expect((await queue.getJobSchedulers(0, -1, true)).map((s) => s.key).sort()).toEqual([
      "sched.cadence-tick",
      "sched.extra",
      "someone-elses",
    ]);
    const report = await reconcileSchedules(redis, prefix, SCHEDULES, QUEUE_NAMES);
    expect(report.removed).toEqual(["cadence/sched.extra"]);
    const left = await queue.getJobSchedulers(0, -1, true);
    expect(left.map((s) => s.key).sort()).toEqual(["sched.cadence-tick", "someone-elses"]);
    expect(left.find((s) => s.key === "sched.cadence-tick")?.pattern).toBe("*/15 * * * *");
    // Exactly one pending job per scheduler.
    const delayed = await nextJobs();
    expect(delayed.filter((j) => j.id?.includes("sched.cadence-tick"))).toHaveLength(1);
    expect(delayed.filter((j) => j.id?.includes("sched.extra"))).toHaveLength(0);
  });

  it("rejects a declared id outside the managed prefix", async () => {
    await expect(
      reconcileSchedules(redis, prefix, [{ ...tick({ every: 1000 }), id: "tick" }], QUEUE_NAMES),
    ).rejects.toThrow(/must start with sched\./);
  });
});

describe("three worker processes starting together", () => {
  const systems: TestSystem[] = [];
  afterAll(async () => {
    for (const s of systems.reverse()) await s.stop();
  });

  it("create the tick scheduler once", async () => {
    // Holds the embedded DynamoDB; the three share its prefixes and table, like one deployment.
    const first = await startTestSystem({ api: false, workers: [] });
    systems.push(first);
    const env = {
      KEY_PREFIX: first.config.KEY_PREFIX,
      QUEUE_PREFIX: first.config.QUEUE_PREFIX,
      DYNAMODB_ENDPOINT: first.system.dynamoEndpoint ?? "",
      DYNAMODB_TABLE: first.config.DYNAMODB_TABLE,
    };
    const started = await Promise.all(
      [0, 1, 2].map(() => startTestSystem({ api: false, workers: ["cadence", "summarize"], env })),
    );
    systems.push(...started);
    const redis = started[0]?.system.redis;
    if (!redis) throw new Error("no system started");
    const q = new Queue("cadence", { connection: redis, prefix: env.QUEUE_PREFIX });
    try {
      const s = await q.getJobSchedulers(0, -1, true);
      expect(s.map((x) => x.key)).toEqual(["sched.cadence-tick"]);
      expect((await q.getDelayed()).filter((j) => j.id?.startsWith("repeat:"))).toHaveLength(1);
      // A faster cadence for the same scheduler: its ticks reach a cadence worker and run.
      const fast = SCHEDULES.map((d) => ({ ...d, repeat: { every: 300 } }));
      await reconcileSchedules(redis, env.QUEUE_PREFIX, fast, QUEUE_NAMES);
      const lastSlot = `${env.KEY_PREFIX}:{cadence}:last-slot`;
      const deadline = Date.now() + 30_000;
      while (!(await redis.get(lastSlot)) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      const slot = Number(await redis.get(lastSlot));
      // The current quarter hour (or the previous one, if a boundary passed meanwhile).
      expect(Math.floor(Date.now() / 900_000) - slot).toBeLessThanOrEqual(1);
      expect(Math.floor(Date.now() / 900_000) - slot).toBeGreaterThanOrEqual(0);
      const done = await q.getCompleted();
      expect(done.some((j) => j.name === "tick" && j.returnvalue?.slots === 1)).toBe(true);
    } finally {
      await q.close();
    }
  });
});
