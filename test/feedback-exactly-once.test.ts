import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PersistPayload, PersistResult } from "../queues/persist.js";
import type { FeedbackRecord } from "../src/repositories/dynamo-store.js";
import { appendToSummary, countedFeedback, KEEP_COUNTED } from "../src/services/feedback-summary.js";
import { persistRunner, startMemorySystem } from "./support/memory.js";
import type { TestSystem } from "./support/system.js";

/**
 * add_feedback writes two items: the episodic record (conditional put, once per feedback id)
 * and the feedback_summary document (conditional on its revision). A worker killed between
 * the two leaves a record the summary lacks; BullMQ re-delivers the job, and the replay must
 * still count it in the summary, exactly once, and bring Redis to DynamoDB's revision.
 */
const NOW = new Date("2026-03-10T12:00:00.000Z");
const NOW_ISO = NOW.toISOString();

type FeedbackPayload = Extract<PersistPayload, { op: "add_feedback" }>;

describe("add_feedback: the summary counts each record exactly once, whatever attempt writes it", () => {
  let t: TestSystem;
  let run: (p: PersistPayload) => Promise<PersistResult>;
  beforeAll(async () => {
    t = await startMemorySystem({ now: () => NOW });
    run = persistRunner(t, NOW);
  });
  afterAll(async () => t?.stop());

  const fb = (user: string, n: number, seq = n, rating = 5): FeedbackPayload => ({
    op: "add_feedback",
    user_id: user,
    id: `f${n}`,
    seq,
    data: {
      interaction_id: `i${n}`,
      rating,
      comments: `comment ${n}`,
      timestamp: new Date(Date.UTC(2026, 2, 10, 10, 0, n % 60, Math.floor(n / 60))).toISOString(),
    },
  });
  /** The record exactly as the worker writes it (workers/persist.ts). */
  const recordOf = (p: FeedbackPayload): FeedbackRecord =>
    ({ ...p.data, feedback_id: p.id, seq: p.seq }) as unknown as FeedbackRecord;
  /** The first half of an attempt killed before the summary: only the episodic record lands. */
  const recordOnly = async (p: FeedbackPayload) =>
    expect(await t.system.deps.store.addFeedback(p.user_id, recordOf(p))).toBe(true);

  const summary = (u: string) => t.system.deps.store.get(u, "feedback_summary");
  const hotHash = (u: string) =>
    t.system.redis.hgetall(t.system.deps.hot.docKey(u, "feedback_summary", "self"));
  const hotRev = async (u: string) => Number((await hotHash(u))._rev ?? 0);
  const records = async (u: string) => (await t.system.deps.store.allFeedback(u)).map((f) => f.feedback_id);

  it("killed after the record, before the summary: the replay counts it once", async () => {
    const u = "x-crash";
    const [p1, p2] = [fb(u, 1), fb(u, 2)];
    expect(await run(p1)).toMatchObject({ applied: true });
    await recordOnly(p2);
    expect((await summary(u))?.rev).toBe(1); // the summary misses f2

    expect(await run(p2)).toEqual({ element: "feedback", id: "f2", version: 1, applied: true });
    const after = await summary(u);
    expect(after).toMatchObject({ rev: 2, data: { positives: ["comment 2", "comment 1"] } });
    expect([...countedFeedback(after).keys()].sort()).toEqual(["f1", "f2"]);
    expect(await hotRev(u)).toBe(2);

    // Replayed again (and the other job too): nothing changes.
    expect(await run(p2)).toMatchObject({ applied: false });
    expect(await run(p1)).toMatchObject({ applied: false });
    expect(await summary(u)).toEqual(after);
    expect(await hotRev(u)).toBe(2);
    expect((await records(u)).sort()).toEqual(["f1", "f2"]);
    const api = await t.api("GET", `/v1/users/${u}/feedback/summary`);
    expect(api.body).toMatchObject({ version: 2, positives: ["comment 2", "comment 1"] });
  });

  it("killed after the very first record: the replay creates the summary", async () => {
    const u = "x-first";
    const p = fb(u, 1, 1, 1);
    await recordOnly(p);
    expect(await summary(u)).toBeUndefined();
    expect(await run(p)).toMatchObject({ applied: true });
    expect(await summary(u)).toMatchObject({ rev: 1, data: { negatives: ["comment 1"] } });
    expect(await run(p)).toMatchObject({ applied: false });
    expect((await summary(u))?.rev).toBe(1);
    expect(await hotRev(u)).toBe(1);
  });

  it("a replay after both writes changes nothing, in either tier", async () => {
    const u = "x-done";
    const p = fb(u, 1);
    await run(p);
    const [doc, hash] = [await summary(u), await hotHash(u)];
    for (let i = 0; i < 3; i++) expect(await run(p)).toMatchObject({ applied: false, version: 1 });
    expect(await summary(u)).toEqual(doc);
    expect(await hotHash(u)).toEqual(hash);
    expect(doc?.rev).toBe(1);
  });

  it("DynamoDB summary written, Redis not: the replay brings Redis to the same revision", async () => {
    const u = "x-redis";
    const [p1, p2, p3] = [fb(u, 1), fb(u, 2), fb(u, 3)];
    await run(p1);
    // f2's attempt died after the summary put, before the Redis upsert.
    await recordOnly(p2);
    await t.system.deps.store.put(appendToSummary(await summary(u), u, recordOf(p2), NOW_ISO));
    expect(await hotRev(u)).toBe(1);
    expect(await run(p2)).toMatchObject({ applied: false });
    expect((await summary(u))?.rev).toBe(2); // not counted twice
    expect(await hotRev(u)).toBe(2);
    expect(JSON.parse((await hotHash(u)).positives ?? "[]")).toEqual(["comment 2", "comment 1"]);

    // Same, with the hot tier warm but without the document at all.
    await run(p3);
    await t.system.redis.del(t.system.deps.hot.docKey(u, "feedback_summary", "self"));
    expect(await hotRev(u)).toBe(0);
    expect(await run(p3)).toMatchObject({ applied: false });
    expect(await hotRev(u)).toBe(3);
    const api = await t.api("GET", `/v1/users/${u}/feedback/summary`);
    expect(api.body).toMatchObject({ version: 3, positives: ["comment 3", "comment 2", "comment 1"] });
  });

  it("the replay through the real queue and worker counts it once", async () => {
    const u = "x-queue";
    const p = fb(u, 1);
    await recordOnly(p);
    const first = await t.system.deps.persist.enqueue(p, { wait: true });
    expect(first.result).toMatchObject({ applied: true });
    const again = await t.system.deps.persist.enqueue(p, { wait: true });
    expect(again.result).toMatchObject({ applied: false });
    expect(await summary(u)).toMatchObject({ rev: 1, data: { positives: ["comment 1"] } });
    expect(await hotRev(u)).toBe(1);
  });

  it("concurrent jobs and replays, some after a crash: each feedback counted once", async () => {
    const u = "x-concurrent";
    const ps = Array.from({ length: 12 }, (_, i) => fb(u, i + 1));
    for (const p of ps.filter((_, i) => i % 2 === 0)) await recordOnly(p);
    await Promise.all([...ps, ...ps].map((p) => run(p)));
    const doc = await summary(u);
    expect(doc?.rev).toBe(12);
    expect([...countedFeedback(doc).keys()].sort()).toEqual(ps.map((p) => p.id).sort());
    expect([...((doc?.data.positives as string[] | undefined) ?? [])].sort()).toEqual(
      ps.map((p) => String(p.data.comments)).sort(),
    );
    expect(await hotRev(u)).toBe(12);
  });

  it("the bookkeeping stays in DynamoDB: not in Redis, the API, the context or the export", async () => {
    const u = "x-private";
    await run(fb(u, 1));
    expect(countedFeedback(await summary(u)).size).toBe(1);
    expect(Object.keys(await hotHash(u)).filter((k) => !k.startsWith("_"))).toEqual(
      expect.arrayContaining(["positives", "negatives", "suggestions"]),
    );
    expect(Object.keys(await hotHash(u)).some((k) => k.startsWith("~") || k.includes("feedback"))).toBe(
      false,
    );
    const api = await t.api("GET", `/v1/users/${u}/feedback/summary`);
    expect(Object.keys(api.body).sort()).toEqual([
      "last_updated",
      "negatives",
      "positives",
      "suggestions",
      "version",
    ]);
    for (const path of ["context", "export"]) {
      const r = await t.api("GET", `/v1/users/${u}/${path}`);
      expect(r.status).toBe(200);
      expect(JSON.stringify(r.body)).not.toMatch(/~feedback|feedback_floor/);
    }
    await t.system.deps.hot.forgetUser(u); // and after a refill from DynamoDB
    const refilled = await t.api("GET", `/v1/users/${u}/feedback/summary`);
    expect(refilled.body).toEqual(api.body);
    expect(JSON.stringify(await hotHash(u))).not.toMatch(/~feedback|feedback_floor/);
  });

  it("the nightly rebuild's write keeps the bookkeeping, so replays after it change nothing", async () => {
    const u = "x-rebuild";
    const [p1, p2] = [fb(u, 1), fb(u, 2)];
    await run(p1);
    await run(p2);
    // What feedbackStep (src/cadence/steps.ts) enqueues: a put of the three lists.
    const rebuilt = { positives: ["rebuilt"], negatives: [], suggestions: [] };
    await run({ op: "put", element: "feedback_summary", user_id: u, seq: 1000, data: rebuilt });
    const doc = await summary(u);
    expect(doc).toMatchObject({ rev: 3, data: rebuilt });
    expect([...countedFeedback(doc).keys()].sort()).toEqual(["f1", "f2"]);
    await run(p1);
    await run(p2);
    expect(await summary(u)).toEqual(doc);
    expect(await hotRev(u)).toBe(3);
  });

  it("bounded: an old id that left the set is not counted again; a late older feedback still is", async () => {
    const u = "x-bounded";
    const N = KEEP_COUNTED + 5;
    const ps = Array.from({ length: N }, (_, i) => fb(u, i + 10, 100 + i));
    for (const p of ps) await run(p);
    const doc = await summary(u);
    expect(doc?.rev).toBe(N);
    const counted = countedFeedback(doc);
    expect(counted.size).toBe(KEEP_COUNTED);
    expect(counted.has("f10")).toBe(false); // the oldest left the set
    // A late replay of it: its record exists and it is older than everything the set holds.
    expect(await run(ps[0] as FeedbackPayload)).toMatchObject({ applied: false });
    expect(await summary(u)).toEqual(doc);
    // A feedback older than the floor whose job runs only now (new record): counted, once.
    const late = fb(u, 1, 1);
    expect(await run(late)).toMatchObject({ applied: true });
    expect((await summary(u))?.rev).toBe(N + 1);
    expect(await run(late)).toMatchObject({ applied: false });
    expect((await summary(u))?.rev).toBe(N + 1);
    expect(countedFeedback(await summary(u)).size).toBe(KEEP_COUNTED);
  });
});
