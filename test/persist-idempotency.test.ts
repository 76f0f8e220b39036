import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PERSIST_QUEUE, type PersistPayload, type PersistResult } from "../queues/persist.js";
import { persistRunner, startMemorySystem } from "./support/memory.js";
import { until } from "./support/ops.js";
import type { TestSystem } from "./support/system.js";

const NOW = new Date("2026-03-10T12:00:00.000Z");

describe("persist worker: idempotent replay and out-of-order versions", () => {
  let t: TestSystem;
  let run: (p: PersistPayload) => Promise<PersistResult>;
  beforeAll(async () => {
    t = await startMemorySystem({ now: () => NOW });
    run = persistRunner(t, NOW);
  });
  afterAll(async () => t?.stop());

  const stored = (u: string, el: "profile" | "goal" | "feedback_summary", id = "self") =>
    t.system.deps.store.get(u, el, id);
  const hotRev = async (u: string, el: string, id = "self") =>
    Number(await t.system.redis.hget(t.system.deps.hot.docKey(u, el as "goal", id), "_rev"));

  describe("a replayed job changes nothing", () => {
    it("create", async () => {
      const u = "r-create";
      const p: PersistPayload = {
        op: "create",
        element: "goal",
        user_id: u,
        id: "g1",
        seq: 1,
        data: { title: "a" },
      };
      expect(await run(p)).toEqual({ element: "goal", id: "g1", version: 1, applied: true });
      expect(await run(p)).toEqual({ element: "goal", id: "g1", version: 1, applied: false });
      expect((await stored(u, "goal", "g1"))?.rev).toBe(1);
      expect(await hotRev(u, "goal", "g1")).toBe(1);
      expect(await t.system.deps.store.countUserItems(u)).toBe(1);
    });

    it("put and patch", async () => {
      const u = "r-put";
      const put: PersistPayload = { op: "put", element: "profile", user_id: u, seq: 1, data: { name: "A" } };
      const patch: PersistPayload = {
        op: "patch",
        element: "profile",
        user_id: u,
        seq: 2,
        data: { gender: "f" },
      };
      await run(put);
      await run(patch);
      expect(await run(put)).toMatchObject({ version: 2, applied: false });
      expect(await run(patch)).toMatchObject({ version: 2, applied: false });
      const doc = await stored(u, "profile");
      expect(doc).toMatchObject({ rev: 2, data: { name: "A", gender: "f" } });
      expect((await t.api("GET", `/v1/users/${u}/profile`)).body).toMatchObject({ version: 2, name: "A" });
    });

    it("goal progress entries are not duplicated", async () => {
      const u = "r-progress";
      await run({ op: "create", element: "goal", user_id: u, id: "g1", seq: 1, data: { title: "a" } });
      const entry = { progress_id: "p1", note: "halfway", percent: 50, at: "2026-03-09T10:00:00.000Z" };
      const p: PersistPayload = {
        op: "append_progress",
        element: "goal",
        user_id: u,
        id: "g1",
        seq: 2,
        entry,
      };
      expect(await run(p)).toMatchObject({ version: 2, applied: true });
      expect(await run(p)).toMatchObject({ version: 2, applied: false });
      expect(await run(p)).toMatchObject({ version: 2, applied: false });
      expect((await stored(u, "goal", "g1"))?.data.progress).toEqual([entry]);
      const api = await t.api("GET", `/v1/users/${u}/goals/g1`);
      expect(api.body.progress).toEqual([entry]);
      expect(api.body.version).toBe(2);
    });

    it("feedback: one episodic record and one summary entry", async () => {
      const u = "r-feedback";
      const p: PersistPayload = {
        op: "add_feedback",
        user_id: u,
        id: "f1",
        seq: 1,
        data: { interaction_id: "i1", rating: 5, comments: "great", timestamp: "2026-03-10T11:00:00.000Z" },
      };
      expect(await run(p)).toMatchObject({ applied: true });
      expect(await run(p)).toMatchObject({ applied: false });
      const page = await t.api("GET", `/v1/users/${u}/feedback`);
      expect(page.body.items.map((f: any) => f.feedback_id)).toEqual(["f1"]);
      const summary = await stored(u, "feedback_summary");
      expect(summary).toMatchObject({ rev: 1, data: { positives: ["great"] } });
    });

    it("delete, and a late replay of the create does not bring the item back", async () => {
      const u = "r-delete";
      const create: PersistPayload = {
        op: "create",
        element: "goal",
        user_id: u,
        id: "g1",
        seq: 1,
        data: { title: "a" },
      };
      const del: PersistPayload = { op: "delete", element: "goal", user_id: u, id: "g1", seq: 2 };
      await run(create);
      expect(await run(del)).toMatchObject({ version: null, applied: true });
      expect(await run(del)).toMatchObject({ version: null, applied: false });
      expect(await run(create)).toMatchObject({ applied: false });
      expect(await stored(u, "goal", "g1")).toBeUndefined();
      expect((await t.api("GET", `/v1/users/${u}/goals/g1`)).status).toBe(404);
      // Not even after Redis forgets the user (its short-lived tombstone goes with it).
      await t.system.deps.hot.forgetUser(u);
      expect((await t.api("GET", `/v1/users/${u}/goals/g1`)).status).toBe(404);
      expect((await t.api("GET", `/v1/users/${u}/goals`)).body.items).toEqual([]);
    });

    it("a replay repairs a hot tier that missed the write", async () => {
      const u = "r-repair";
      const p: PersistPayload = { op: "put", element: "profile", user_id: u, seq: 1, data: { name: "A" } };
      await run(p);
      await t.system.redis.del(t.system.deps.hot.docKey(u, "profile", "self"));
      await t.system.redis.set(`${t.system.deps.hot.base(u)}warm`, "1"); // looks warm, lacks the doc
      expect(await run(p)).toMatchObject({ applied: false, version: 1 });
      expect(await hotRev(u, "profile")).toBe(1);
    });

    it("the same payload enqueued twice on the real queue is applied once", async () => {
      const u = "r-queue";
      const p: PersistPayload = {
        op: "create",
        element: "todo",
        user_id: u,
        id: "t1",
        seq: 1,
        data: { text: "once" },
      };
      const q = t.system.deps.persist.queue;
      const a = await q.add(PERSIST_QUEUE, p, { jobId: "dup-a" });
      const b = await q.add(PERSIST_QUEUE, p, { jobId: "dup-b" });
      // The same job id twice is one job (BullMQ ignores the second add).
      const c = await q.add(PERSIST_QUEUE, p, { jobId: "dup-a" });
      expect(c.id).toBe(a.id);
      const results = await until("both jobs done", async () => {
        const [ja, jb] = await Promise.all([q.getJob(a.id as string), q.getJob(b.id as string)]);
        return ja?.returnvalue && jb?.returnvalue ? [ja.returnvalue, jb.returnvalue] : undefined;
      });
      expect(results.filter((r) => r.applied)).toHaveLength(1);
      expect(results.map((r) => r.version)).toEqual([1, 1]);
      expect((await t.api("GET", `/v1/users/${u}/todos`)).body.items).toHaveLength(1);
      expect((await t.system.deps.store.get(u, "todo", "t1"))?.rev).toBe(1);
    });

    it("an Idempotency-Key makes a retried request one write", async () => {
      const u = "r-idem";
      const headers = { "idempotency-key": "req-42" };
      const a = await t.api("POST", `/v1/users/${u}/goals`, { title: "once" }, { headers });
      const b = await t.api("POST", `/v1/users/${u}/goals`, { title: "once" }, { headers });
      expect(a.status).toBe(201);
      expect(b.status).toBe(201);
      expect(b.body.goal_id).toBe(a.body.goal_id);
      expect((await t.api("GET", `/v1/users/${u}/goals`)).body.items).toHaveLength(1);
    });
  });

  describe("out-of-order versions", () => {
    it("seq 2 then seq 1 for the same field: the newer value stays", async () => {
      const u = "o-same";
      await run({ op: "patch", element: "profile", user_id: u, seq: 2, data: { name: "new" } });
      const late = await run({ op: "patch", element: "profile", user_id: u, seq: 1, data: { name: "old" } });
      expect(late).toMatchObject({ applied: false, version: 1 });
      expect((await stored(u, "profile"))?.data).toEqual({ name: "new" });
      expect((await t.api("GET", `/v1/users/${u}/profile`)).body.name).toBe("new");
    });

    it("a late PUT does not undo a newer PATCH, but fills the fields nobody newer set", async () => {
      const u = "o-put";
      await run({ op: "patch", element: "profile", user_id: u, seq: 5, data: { name: "patched" } });
      await run({ op: "put", element: "profile", user_id: u, seq: 3, data: { name: "put", gender: "m" } });
      expect((await stored(u, "profile"))?.data).toEqual({ name: "patched", gender: "m" });
      // A newer PUT claims every field, so a later-arriving older PATCH loses.
      await run({ op: "put", element: "profile", user_id: u, seq: 9, data: { name: "final" } });
      await run({ op: "patch", element: "profile", user_id: u, seq: 7, data: { gender: "f" } });
      expect((await stored(u, "profile"))?.data).toEqual({ name: "final" });
    });

    it("patches of different fields out of order both land", async () => {
      const u = "o-diff";
      await run({ op: "create", element: "goal", user_id: u, id: "g1", seq: 1, data: { title: "t" } });
      await run({ op: "patch", element: "goal", user_id: u, id: "g1", seq: 3, data: { priority: 1 } });
      await run({ op: "patch", element: "goal", user_id: u, id: "g1", seq: 2, data: { category: "health" } });
      const g = await t.api("GET", `/v1/users/${u}/goals/g1`);
      expect(g.body).toMatchObject({ title: "t", priority: 1, category: "health", version: 3 });
      expect((await stored(u, "goal", "g1"))?.data).toMatchObject({ priority: 1, category: "health" });
    });

    it("a late null (removal) does not remove a newer value", async () => {
      const u = "o-null";
      await run({ op: "patch", element: "profile", user_id: u, seq: 4, data: { gender: "x" } });
      await run({ op: "patch", element: "profile", user_id: u, seq: 2, data: { gender: null } });
      expect((await stored(u, "profile"))?.data).toEqual({ gender: "x" });
    });

    it("concurrent patches of different fields all land (conditional writes retry)", async () => {
      const u = "o-race";
      await run({ op: "put", element: "profile", user_id: u, seq: 1, data: { name: "n" } });
      const fields = { gender: "f", email: "a@example.com", phone: "+14155550100", locale: "en-GB" };
      await Promise.all(
        Object.entries(fields).map(([k, v], i) =>
          run({ op: "patch", element: "profile", user_id: u, seq: 10 + i, data: { [k]: v } }),
        ),
      );
      const doc = await stored(u, "profile");
      expect(doc?.data).toEqual({ name: "n", ...fields });
      expect(doc?.rev).toBe(5);
      expect(await hotRev(u, "profile")).toBe(5);
    });
  });
});
