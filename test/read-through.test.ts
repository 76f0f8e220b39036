import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startMemorySystem } from "./support/memory.js";
import { until } from "./support/ops.js";
import type { TestSystem } from "./support/system.js";

const NOW = new Date("2026-03-10T12:00:00.000Z");

describe("cold-cache read-through", () => {
  let t: TestSystem;
  beforeAll(async () => {
    // Only the persist worker: embed and cadence workers read DynamoDB through the same store
    // object, which would show up in the "never touches DynamoDB" spies.
    t = await startMemorySystem({ now: () => NOW, workers: ["persist"] });
  });
  afterAll(async () => t?.stop());
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await t.api(method, path, body);
    expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
    return r.body;
  };
  /** The user's memory keys (documents, sorted sets, warm marker, sequence). */
  const userKeys = async (u: string) => {
    const base = t.system.deps.hot.base(u).replace(/[{}]/g, "\\$&");
    const keys = await t.system.redis.keys(`${base}*`);
    return keys.filter((k) => /:(doc:|z:|warm$|seq$)/.test(k)).sort();
  };

  /** Every element of one user, written through the API. */
  async function seed(u: string) {
    await ok("PUT", `/v1/users/${u}/profile`, { name: "Ana", timezone: "Europe/Lisbon" });
    await ok("PUT", `/v1/users/${u}/preferences`, { occupation: "nurse", attributes: { tea: "green" } });
    await ok("PUT", `/v1/users/${u}/state`, { mood: "calm" });
    const g = await ok("POST", `/v1/users/${u}/goals`, { title: "swim", priority: 1 });
    await ok("POST", `/v1/users/${u}/goals/${g.goal_id}/progress`, { note: "first km" });
    await ok("POST", `/v1/users/${u}/goals`, { title: "read", status: "paused" });
    const td = await ok("POST", `/v1/users/${u}/todos`, { text: "buy goggles", due_date: "2026-03-01" });
    await ok("POST", `/v1/users/${u}/todos`, { text: "book pool", due_date: "2026-03-12" });
    const ev = await ok("POST", `/v1/users/${u}/events`, {
      summary: "swim class",
      start: "2026-03-11T18:00:00Z",
    });
    await ok("POST", `/v1/users/${u}/feedback`, { interaction_id: "i", rating: 5, comments: "kind" });
    return { goal: g.goal_id as string, todo: td.todo_id as string, event: ev.event_id as string };
  }

  async function readAll(u: string, ids: { goal: string; todo: string; event: string }) {
    const paths = [
      "profile",
      "preferences",
      "state",
      "goals",
      `goals/${ids.goal}`,
      "todos",
      `todos/${ids.todo}`,
      "events",
      `events/${ids.event}`,
      "feedback/summary",
      "feedback",
      "context",
    ];
    const out: Record<string, unknown> = {};
    for (const p of paths) out[p] = await ok("GET", `/v1/users/${u}/${p}`);
    return out;
  }

  it("after the user's Redis keys are gone, every read and the context return everything; Redis is refilled", async () => {
    const u = "rt1";
    const ids = await seed(u);
    const warm = await readAll(u, ids);
    const keysBefore = await userKeys(u);
    expect(keysBefore.length).toBeGreaterThan(5);

    await t.system.deps.hot.forgetUser(u);
    expect(await userKeys(u)).toEqual([]);

    const cold = await readAll(u, ids);
    expect(cold).toEqual(warm);
    // Everything but the sequence counter is back (it is handed out by the next write).
    expect(await userKeys(u)).toEqual(keysBefore.filter((k) => !k.endsWith(":seq")));
  });

  it("the context alone refills a cold user, with one DynamoDB read of the partition", async () => {
    const u = "rt2";
    await seed(u);
    const before = await ok("GET", `/v1/users/${u}/context`);
    await t.system.deps.hot.forgetUser(u);
    const load = vi.spyOn(t.system.deps.store, "loadUser");
    const after = await ok("GET", `/v1/users/${u}/context`);
    expect(after).toEqual(before);
    expect(load).toHaveBeenCalledTimes(1);
    expect(await t.system.redis.exists(`${t.system.deps.hot.base(u)}warm`)).toBe(1);
  });

  it("a warm context never touches DynamoDB", async () => {
    const u = "rt3";
    await seed(u);
    await ok("GET", `/v1/users/${u}/context`);
    const store = t.system.deps.store;
    const spies = [
      vi.spyOn(store, "loadUser"),
      vi.spyOn(store, "get"),
      vi.spyOn(store, "listFeedback"),
      vi.spyOn(store, "countUserItems"),
    ];
    const c = await ok("GET", `/v1/users/${u}/context`);
    expect(c.sections.goals).toHaveLength(1);
    for (const s of spies) expect(s).not.toHaveBeenCalled();
  });

  it("concurrent cold reads refill once", async () => {
    const u = "rt4";
    await seed(u);
    await t.system.deps.hot.forgetUser(u);
    const load = vi.spyOn(t.system.deps.store, "loadUser");
    const results = await Promise.all([
      t.api("GET", `/v1/users/${u}/context`),
      t.api("GET", `/v1/users/${u}/goals`),
      t.api("GET", `/v1/users/${u}/profile`),
      t.api("GET", `/v1/users/${u}/todos`),
    ]);
    for (const r of results) expect(r.status).toBe(200);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it("a write that lands while the user is cold does not hide the rest", async () => {
    const u = "rt5";
    await seed(u);
    await t.system.deps.hot.forgetUser(u);
    const q = await t.api("POST", `/v1/users/${u}/goals?wait=false`, { title: "written cold", priority: 2 });
    expect(q.status).toBe(202);
    await until("job done", async () => (await t.api("GET", q.body.status_url)).body.state === "completed");
    const goals = (await ok("GET", `/v1/users/${u}/goals`)).items.map((g: any) => g.title);
    expect(goals).toEqual(["swim", "written cold", "read"]);
    const c = await ok("GET", `/v1/users/${u}/context`);
    expect(c.sections.basic_info.name).toBe("Ana");
    expect(c.sections.todos.map((x: any) => x.text)).toEqual(["buy goggles", "book pool"]);
  });

  it("after a flush, new writes still win over older ones (sequence numbers never go back)", async () => {
    const u = "rt6";
    await ok("PUT", `/v1/users/${u}/profile`, { name: "before flush" });
    await t.system.deps.hot.forgetUser(u);
    const p = await ok("PATCH", `/v1/users/${u}/profile`, { name: "after flush" });
    expect(p).toMatchObject({ name: "after flush", version: 2 });
    expect((await t.system.deps.store.get(u, "profile"))?.data.name).toBe("after flush");
  });

  it("deleted items stay deleted after a flush", async () => {
    const u = "rt7";
    const ids = await seed(u);
    expect((await t.api("DELETE", `/v1/users/${u}/todos/${ids.todo}`)).status).toBe(204);
    await t.system.deps.hot.forgetUser(u);
    expect((await t.api("GET", `/v1/users/${u}/todos/${ids.todo}`)).status).toBe(404);
    expect((await ok("GET", `/v1/users/${u}/todos`)).items.map((x: any) => x.text)).toEqual(["book pool"]);
    const c = await ok("GET", `/v1/users/${u}/context`);
    expect(c.text).not.toContain("buy goggles");
  });
});
