import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bigString, expectInvalid, refusedWithoutWrite, startMemorySystem } from "../support/memory.js";
import type { TestSystem } from "../support/system.js";

const FIXED = new Date("2026-03-10T12:00:00.000Z");

describe("goals", () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startMemorySystem({ now: () => FIXED });
  });
  afterAll(async () => t?.stop());

  const create = async (user: string, body: Record<string, unknown>) => {
    const r = await t.api("POST", `/v1/users/${user}/goals`, body);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body;
  };

  it("POST assigns an id and defaults, GET one returns it, both tiers hold it", async () => {
    const g = await create("g1", {
      title: "Run a half marathon",
      description: "Sub 2h",
      category: "health",
      target_date: "2026-10-01",
    });
    expect(g).toMatchObject({
      goal_id: expect.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
      title: "Run a half marathon",
      status: "active",
      priority: 3,
      version: 1,
      created_at: FIXED.toISOString(),
      updated_at: FIXED.toISOString(),
    });
    const one = await t.api("GET", `/v1/users/g1/goals/${g.goal_id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(g);
    expect((await t.system.deps.store.get("g1", "goal", g.goal_id))?.data.title).toBe("Run a half marathon");
    const z = await t.system.redis.zscore(`${t.system.deps.hot.base("g1")}z:goal`, g.goal_id);
    expect(z).not.toBeNull();
  });

  it("GET list is ordered by priority then target date and filters by ?status=", async () => {
    const u = "g2";
    const late = await create(u, { title: "late", priority: 2, target_date: "2026-12-01" });
    const early = await create(u, { title: "early", priority: 2, target_date: "2026-05-01" });
    const top = await create(u, { title: "top", priority: 1 });
    const paused = await create(u, {
      title: "paused",
      priority: 1,
      status: "paused",
      target_date: "2026-04-01",
    });
    const done = await create(u, { title: "done", status: "completed" });

    const all = await t.api("GET", `/v1/users/${u}/goals`);
    expect(all.status).toBe(200);
    expect(all.body.items.map((g: any) => g.title)).toEqual(["paused", "top", "early", "late", "done"]);

    const active = await t.api("GET", `/v1/users/${u}/goals?status=active`);
    expect(active.body.items.map((g: any) => g.goal_id)).toEqual([top.goal_id, early.goal_id, late.goal_id]);
    const p = await t.api("GET", `/v1/users/${u}/goals?status=paused`);
    expect(p.body.items.map((g: any) => g.goal_id)).toEqual([paused.goal_id]);
    const c = await t.api("GET", `/v1/users/${u}/goals?status=completed`);
    expect(c.body.items.map((g: any) => g.goal_id)).toEqual([done.goal_id]);
    expect((await t.api("GET", `/v1/users/${u}/goals?status=abandoned`)).body.items).toEqual([]);
    expect((await t.api("GET", "/v1/users/g-nobody/goals")).body).toEqual({ items: [] });
  });

  it("PATCH changes fields, re-sorts, and null removes an optional field", async () => {
    const u = "g3";
    const a = await create(u, { title: "a", priority: 1, category: "x" });
    const b = await create(u, { title: "b", priority: 2 });
    const p = await t.api("PATCH", `/v1/users/${u}/goals/${a.goal_id}`, {
      priority: 5,
      category: null,
      status: "paused",
    });
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({
      goal_id: a.goal_id,
      title: "a",
      priority: 5,
      status: "paused",
      version: 2,
    });
    expect(p.body).not.toHaveProperty("category");
    const list = await t.api("GET", `/v1/users/${u}/goals`);
    expect(list.body.items.map((g: any) => g.goal_id)).toEqual([b.goal_id, a.goal_id]);
  });

  it("DELETE removes the goal from both tiers", async () => {
    const u = "g4";
    const g = await create(u, { title: "gone soon" });
    const d = await t.api("DELETE", `/v1/users/${u}/goals/${g.goal_id}`);
    expect(d.status).toBe(204);
    expect((await t.api("GET", `/v1/users/${u}/goals/${g.goal_id}`)).status).toBe(404);
    expect((await t.api("GET", `/v1/users/${u}/goals`)).body.items).toEqual([]);
    expect(await t.system.deps.store.get(u, "goal", g.goal_id)).toBeUndefined();
    expect(await t.system.redis.exists(t.system.deps.hot.docKey(u, "goal", g.goal_id))).toBe(0);
    expect(await t.system.redis.zscore(`${t.system.deps.hot.base(u)}z:goal`, g.goal_id)).toBeNull();
  });

  it("POST /:goal_id/progress appends entries (at defaults to now), kept in time order", async () => {
    const u = "g5";
    const g = await create(u, { title: "learn piano" });
    const first = await t.api("POST", `/v1/users/${u}/goals/${g.goal_id}/progress`, {
      note: "first lesson",
      percent: 5,
    });
    expect(first.status).toBe(201);
    expect(first.body.progress).toEqual([
      { progress_id: expect.any(String), note: "first lesson", percent: 5, at: FIXED.toISOString() },
    ]);
    const earlier = await t.api("POST", `/v1/users/${u}/goals/${g.goal_id}/progress`, {
      note: "bought a keyboard",
      at: "2026-03-01T09:00:00Z",
    });
    expect(earlier.status).toBe(201);
    expect(earlier.body.progress.map((e: any) => e.note)).toEqual(["bought a keyboard", "first lesson"]);
    expect(earlier.body.version).toBe(3);
    const stored = await t.system.deps.store.get(u, "goal", g.goal_id);
    expect(stored?.data.progress).toHaveLength(2);
  });

  describe("bad input is refused with 400 and nothing is enqueued or written", () => {
    const U = "g-bad";
    let goalId: string;
    beforeAll(async () => {
      goalId = (await create(U, { title: "existing", target_date: "2026-06-01" })).goal_id;
    });

    const createCases: [string, unknown, string, string][] = [
      ["missing title", { description: "no title" }, "body.title", "invalid_type"],
      ["title of the wrong type", { title: 42 }, "body.title", "invalid_type"],
      ["oversized title", { title: bigString(201) }, "body.title", "too_big"],
      ["oversized description", { title: "a", description: bigString(4001) }, "body.description", "too_big"],
      ["unknown status", { title: "a", status: "done" }, "body.status", "invalid_value"],
      ["priority too high", { title: "a", priority: 6 }, "body.priority", "too_big"],
      ["priority not an integer", { title: "a", priority: 1.5 }, "body.priority", "invalid_type"],
      ["priority as string", { title: "a", priority: "high" }, "body.priority", "invalid_type"],
      ["bad target date", { title: "a", target_date: "next year" }, "body.target_date", "invalid_format"],
      [
        "impossible target date",
        { title: "a", target_date: "2026-02-30" },
        "body.target_date",
        "invalid_date",
      ],
      ["bad parent id", { title: "a", parent: "../etc" }, "body.parent", "invalid_format"],
      ["server-assigned id", { title: "a", goal_id: "mine" }, "body.goal_id", "unknown_field"],
      ["server-managed progress", { title: "a", progress: [] }, "body.progress", "unknown_field"],
    ];
    for (const [what, body, field, rule] of createCases) {
      it(`POST: ${what}`, async () => {
        const r = await refusedWithoutWrite(t, U, () => t.api("POST", `/v1/users/${U}/goals`, body));
        expectInvalid(r, field, rule);
      });
    }

    const patchCases: [string, unknown, string, string][] = [
      ["required title removed", { title: null }, "body.title", "invalid_type"],
      ["unknown status", { status: "finished" }, "body.status", "invalid_value"],
      ["bad target date", { target_date: "2026-13-01" }, "body.target_date", "invalid_date"],
      ["unknown field", { owner: "me" }, "body.owner", "unknown_field"],
      ["empty patch", {}, "body", "empty_patch"],
    ];
    for (const [what, body, field, rule] of patchCases) {
      it(`PATCH: ${what}`, async () => {
        const r = await refusedWithoutWrite(t, U, () =>
          t.api("PATCH", `/v1/users/${U}/goals/${goalId}`, body),
        );
        expectInvalid(r, field, rule);
      });
    }

    const progressCases: [string, unknown, string, string][] = [
      ["missing note", { percent: 10 }, "body.note", "invalid_type"],
      ["percent above 100", { note: "x", percent: 101 }, "body.percent", "too_big"],
      ["negative percent", { note: "x", percent: -1 }, "body.percent", "too_small"],
      ["bad at", { note: "x", at: "yesterday" }, "body.at", "invalid_format"],
      ["at without timezone", { note: "x", at: "2026-03-01T10:00:00" }, "body.at", "invalid_format"],
      ["unknown field", { note: "x", mood: "good" }, "body.mood", "unknown_field"],
    ];
    for (const [what, body, field, rule] of progressCases) {
      it(`POST progress: ${what}`, async () => {
        const r = await refusedWithoutWrite(t, U, () =>
          t.api("POST", `/v1/users/${U}/goals/${goalId}/progress`, body),
        );
        expectInvalid(r, field, rule);
      });
    }

    it("malformed JSON and oversized bodies", async () => {
      for (const [method, path] of [
        ["POST", `/v1/users/${U}/goals`],
        ["PATCH", `/v1/users/${U}/goals/${goalId}`],
        ["POST", `/v1/users/${U}/goals/${goalId}/progress`],
      ] as const) {
        const bad = await refusedWithoutWrite(t, U, () =>
          t.api(method, path, undefined, { raw: '{"title":' }),
        );
        expect(bad.status).toBe(400);
        expect(bad.body.error.code).toBe("invalid_json");
        const big = await refusedWithoutWrite(t, U, () => t.api(method, path, { title: bigString(100_000) }));
        expect(big.status).toBe(413);
      }
    });

    it("bad ids in paths", async () => {
      for (const [method, body] of [
        ["GET", undefined],
        ["PATCH", { title: "x" }],
        ["DELETE", undefined],
      ] as const) {
        const r = await refusedWithoutWrite(t, U, () => t.api(method, `/v1/users/${U}/goals/bad.id`, body));
        expectInvalid(r, "path.goal_id", "invalid_format");
      }
      const p = await refusedWithoutWrite(t, U, () =>
        t.api("POST", `/v1/users/${U}/goals/${"x".repeat(65)}/progress`, { note: "x" }),
      );
      expectInvalid(p, "path.goal_id", "invalid_format");
    });

    it("bad query parameters", async () => {
      expectInvalid(await t.api("GET", `/v1/users/${U}/goals?status=done`), "query.status", "invalid_value");
      expectInvalid(await t.api("GET", `/v1/users/${U}/goals?status=active&status=paused`), "query.status");
      const w = await refusedWithoutWrite(t, U, () =>
        t.api("POST", `/v1/users/${U}/goals?wait=no`, { title: "a" }),
      );
      expectInvalid(w, "query.wait", "invalid_value");
    });

    it("unknown goal: 404 on every route and nothing enqueued", async () => {
      const missing = "no-such-goal";
      for (const [method, path, body] of [
        ["GET", `/v1/users/${U}/goals/${missing}`, undefined],
        ["PATCH", `/v1/users/${U}/goals/${missing}`, { title: "x" }],
        ["DELETE", `/v1/users/${U}/goals/${missing}`, undefined],
        ["POST", `/v1/users/${U}/goals/${missing}/progress`, { note: "x" }],
      ] as const) {
        const r = await refusedWithoutWrite(t, U, () => t.api(method, path, body));
        expect(r.status, `${method} ${path}`).toBe(404);
        expect(r.body.error.code).toBe("not_found");
      }
    });

    it("the existing goal is untouched", async () => {
      const g = await t.api("GET", `/v1/users/${U}/goals/${goalId}`);
      expect(g.body).toMatchObject({ title: "existing", target_date: "2026-06-01", version: 1 });
      expect(await t.system.deps.store.countUserItems(U)).toBe(1);
    });
  });
});
