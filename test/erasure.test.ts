import { Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUEUE_NAMES } from "../queues/names.js";
import { createBlockingRedis } from "../src/infra/redis.js";
import type { UserTier } from "../src/services/user-tiers.js";
import { createPersistProcessor } from "../workers/persist.js";
import { dumpQueues, dumpRedis, dynamoItems, partitionCount } from "./support/scan.js";
import { startTestSystem, TEST_KEY, type TestSystem } from "./support/system.js";
import { TEST_JWT_SECRET, userToken } from "./support/tokens.js";

const A = "alice-7f3";
const B = "bob-2c9";
const MARK = { [A]: "ALICEMARK", [B]: "BOBMARK" } as const;

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every element through the API, plus a delayed write, a failed job and a schedule in the queues. */
async function seed(t: TestSystem, u: string) {
  const m = MARK[u as keyof typeof MARK];
  const ok = async (method: string, path: string, body: unknown) => {
    const r = await t.api(method, `/v1/users/${u}${path}`, body);
    expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
    return r.body;
  };
  await ok("PUT", "/profile", {
    name: `${m} Name`,
    date_of_birth: "1990-04-02",
    email: `${m.toLowerCase()}@example.com`,
    phone: "+14155550100",
    timezone: "Europe/Paris",
    locale: "en-US",
  });
  await ok("PUT", "/preferences", {
    occupation: `${m} job`,
    food_preferences: ["sushi"],
    attributes: { pet: `${m}` },
  });
  await ok("PUT", "/state", { mood: `${m} mood`, skills: ["chess"] });
  const goal = await ok("POST", "/goals", { title: `${m} goal`, target_date: "2031-01-01" });
  await ok("POST", `/goals/${goal.goal_id}/progress`, { note: `${m} progress`, percent: 20 });
  await ok("POST", "/todos", { text: `${m} todo`, due_date: "2030-01-01", parent_goal: goal.goal_id });
  await ok("POST", "/events", { summary: `${m} event`, start: "2030-01-02T10:00:00Z" });
  await ok("POST", "/feedback", { interaction_id: `${m}-i1`, rating: 4, comments: `${m} comment` });
  await ok("POST", "/feedback", { interaction_id: `${m}-i2`, rating: 2, tags: ["too_long"] });

  const q = t.system.deps.persist.queue;
  const later = { op: "patch", element: "state", user_id: u, seq: 999, data: { mood: `${m} later` } };
  const delayed = await q.add("persist", later as never, { delay: 3_600_000 });
  const bad = await q.add("persist", { op: "bogus", user_id: u, seq: 1, data: { note: m } } as never);
  await until("the bad job to fail", async () => (await bad.getState()) === "failed");
  await q.upsertJobScheduler(
    `nightly-${u}`,
    { every: 86_400_000, startDate: Date.now() + 3_600_000 },
    {
      name: "persist",
      data: later as never,
    },
  );
  return { delayedId: delayed.id as string };
}

describe("export and erasure", () => {
  let t: TestSystem;
  const outside = new Map<string, { connected: boolean; access_token: string; calendars: string[] }>();
  // Stands in for a tier another part of the system registers (calendar connection, journal …).
  const calendarTier: UserTier = {
    name: "calendar_test",
    erase: async (u) => void outside.delete(u),
    count: async (u) => (outside.has(u) ? 1 : 0),
    export: async (u) => outside.get(u) ?? null,
  };

  beforeAll(async () => {
    t = await startTestSystem({ env: { MEMORY_JWT_SECRET: TEST_JWT_SECRET } });
    t.system.deps.tiers.push(calendarTier);
    for (const u of [A, B]) {
      outside.set(u, {
        connected: true,
        access_token: `ya29.${MARK[u as keyof typeof MARK]}`,
        calendars: ["primary"],
      });
    }
    await seed(t, A);
    await seed(t, B);
    // More feedback than one page, written straight to DynamoDB (the export must page through it).
    for (let i = 0; i < 120; i++) {
      await t.system.deps.store.addFeedback(A, {
        feedback_id: `bulk-${i}`,
        interaction_id: `bulk-${i}`,
        rating: 3,
        timestamp: new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString(),
        seq: 10_000 + i,
      });
    }
  }, 120_000);
  afterAll(async () => t?.stop());

  it("exports everything held about the user as one JSON document, never a credential", async () => {
    const token = await userToken(A);
    const r = await t.api("GET", `/v1/users/${A}/export`, undefined, { token });
    expect(r.status).toBe(200);
    expect(r.headers.get("cache-control")).toBe("no-store");
    const doc = r.body;
    expect(doc.user_id).toBe(A);
    const d = doc.tiers.dynamodb;
    expect(d.profile).toMatchObject({
      name: "ALICEMARK Name",
      email: "alicemark@example.com",
      phone: "+14155550100",
    });
    expect(d.preferences).toMatchObject({ occupation: "ALICEMARK job", attributes: { pet: "ALICEMARK" } });
    expect(d.state).toMatchObject({ mood: "ALICEMARK mood" });
    expect(d.goals).toHaveLength(1);
    expect(d.goals[0].progress).toEqual([
      expect.objectContaining({ note: "ALICEMARK progress", percent: 20 }),
    ]);
    expect(d.todos).toEqual([expect.objectContaining({ text: "ALICEMARK todo" })]);
    expect(d.events).toEqual([expect.objectContaining({ summary: "ALICEMARK event" })]);
    expect(d.feedback_summary).not.toBeNull();
    expect(d.feedback).toHaveLength(122);
    expect(new Set(d.feedback.map((f: { feedback_id: string }) => f.feedback_id)).size).toBe(122);
    expect(d.feedback.some((f: { comments?: string }) => f.comments === "ALICEMARK comment")).toBe(true);
    const jobs = doc.tiers.queues.jobs as { state: string; data: { user_id: string } }[];
    expect(jobs.map((j) => j.state)).toEqual(expect.arrayContaining(["delayed", "failed", "completed"]));
    expect(jobs.every((j) => j.data.user_id === A)).toBe(true);
    expect(doc.tiers.queues.schedules).toEqual([expect.objectContaining({ scheduler_id: `nightly-${A}` })]);
    expect(doc.tiers.calendar_test).toEqual({ connected: true, calendars: ["primary"] });

    const text = JSON.stringify(doc);
    for (const secret of ["ya29.", TEST_KEY, TEST_JWT_SECRET, token]) expect(text).not.toContain(secret);
    expect(text).not.toContain(B);
    expect(text).not.toContain(MARK[B]);
  });

  it("erases the user from every tier and queue, leaves the other user untouched, and is idempotent", async () => {
    const exportB = async () => {
      const { exported_at: _e, ...rest } = (await t.api("GET", `/v1/users/${B}/export`)).body;
      return rest;
    };
    const before = {
      export: await exportB(),
      redisKeys: await t.system.deps.hot.countUserKeys(B),
      items: await partitionCount(t, B),
    };
    expect(before.items).toBeGreaterThan(8);

    const r = await t.api("DELETE", `/v1/users/${A}`, undefined, { token: await userToken(A) });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      user_id: A,
      erased: true,
      remaining: { queues: 0, dynamodb: 0, redis: 0, calendar_test: 0 },
    });

    // Redis: no key with A's tag, and no value anywhere that mentions A (job payloads included).
    const redis = await dumpRedis(t.system.redis, [t.config.KEY_PREFIX, t.config.QUEUE_PREFIX]);
    const leaks = [...redis].filter(([k, v]) => `${k} ${v}`.includes(A) || v.includes(MARK[A]));
    expect(leaks.map(([k]) => k)).toEqual([]);
    expect([...redis.keys()].some((k) => k.includes(`{${B}}`))).toBe(true);
    expect([...redis.values()].some((v) => v.includes(MARK[B]))).toBe(true); // the dump reads contents

    // DynamoDB: A's partition is empty and no item anywhere in the table mentions A.
    expect(await partitionCount(t, A)).toBe(0);
    const items = (await dynamoItems(t)).map((i) => JSON.stringify(i));
    expect(items.filter((i) => i.includes(A) || i.includes(MARK[A]))).toEqual([]);
    expect(items.filter((i) => i.includes(`USER#${B}`)).length).toBe(before.items);

    // Queues: no job in any state and no schedule of A; B's remain.
    const queued = await dumpQueues(t.system.ops.queues.all);
    expect(queued.filter((j) => j.json.includes(A) || j.json.includes(MARK[A]))).toEqual([]);
    expect(queued.some((j) => j.json.includes(`nightly-${B}`))).toBe(true);
    expect(queued.some((j) => j.json.includes(MARK[B]) && j.json.includes('"delay"'))).toBe(true);

    // Registered tiers were erased too; B everywhere as before.
    expect(outside.has(A)).toBe(false);
    expect(await exportB()).toEqual(before.export);
    expect(await t.system.deps.hot.countUserKeys(B)).toBe(before.redisKeys);

    // Idempotent: erasing again succeeds in one pass.
    const again = await t.api("DELETE", `/v1/users/${A}`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ erased: true, passes: 1 });
    expect(Object.values(again.body.remaining).every((n) => n === 0)).toBe(true);
    expect((await t.api("GET", `/v1/users/${A}/profile`)).status).toBe(404);
  });
});

describe("erasure while one of the user's jobs is running", () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startTestSystem({ workers: [] }); // the test plays the worker
  });
  afterAll(async () => t?.stop());

  it("waits for the active job, then erases what it wrote", async () => {
    const u = "carol-5d1";
    const w = await t.api("PUT", `/v1/users/${u}/profile?wait=false`, { name: "Carol" });
    expect(w.status).toBe(202);
    const q = t.system.deps.persist.queue;
    const delayed = await q.add(
      "persist",
      { op: "patch", element: "state", user_id: u, seq: 7, data: {} } as never,
      {
        delay: 3_600_000,
      },
    );
    const conn = createBlockingRedis(t.config.REDIS_URL);
    const worker = new Worker(QUEUE_NAMES[0] as string, null, {
      connection: conn,
      prefix: t.config.QUEUE_PREFIX,
    });
    try {
      const job = await until("a job to take", async () => worker.getNextJob("lock-1"));
      expect(job.id).toBe(w.body.job_id);
      expect(await job.getState()).toBe("active");

      let answered = false;
      const erasing = t.api("DELETE", `/v1/users/${u}`).finally(() => {
        answered = true;
      });
      // One pass has run (the delayed job is gone) but the running job holds the erasure back.
      await until("the first pass", async () => !(await q.getJob(delayed.id as string)));
      expect(answered).toBe(false);

      const { store, hot } = t.system.deps;
      const result = await createPersistProcessor({ store, hot })(job);
      expect(result.applied).toBe(true);
      expect(await partitionCount(t, u)).toBe(1); // the late write landed after the first pass
      await job.moveToCompleted(result, "lock-1", false);

      const r = await erasing;
      expect(r.status).toBe(200);
      expect(r.body.passes).toBeGreaterThan(1);
      expect(r.body.remaining).toMatchObject({ queues: 0, dynamodb: 0, redis: 0 });
      expect(Object.values(r.body.remaining).every((n) => n === 0)).toBe(true);
      expect(await partitionCount(t, u)).toBe(0);
      expect(await hot.countUserKeys(u)).toBe(0);
      expect((await dumpQueues(t.system.ops.queues.all)).filter((j) => j.json.includes(u))).toEqual([]);
    } finally {
      await worker.close();
      await conn.quit();
    }
  });
});
