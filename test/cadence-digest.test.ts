import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTick } from "../src/cadence/fanout.js";
import type { CadenceServices } from "../src/cadence/services.js";
import { cadenceTier } from "../src/cadence/tier.js";
import { startTestSystem, type TestSystem } from "./support/system.js";

const clock = { now: new Date("2025-01-15T05:00:00Z") };

async function until<T>(f: () => Promise<T | undefined | false>, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("daily digest in the user's morning", () => {
  let t: TestSystem;
  let c: CadenceServices;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestSystem({
      now: () => clock.now,
      env: {
        CADENCE_SCHEDULES: "off",
        CADENCE_SPREAD_SECONDS: "0",
        DIGEST_HORIZON_DAYS: "3",
        DIGEST_GOAL_DAYS: "14",
      },
    });
    c = t.system.deps.cadence as CadenceServices;
    expect(
      (await t.api("PUT", "/v1/users/d1/profile", { name: "Dee", timezone: "Europe/Paris" })).status,
    ).toBe(200);
    expect((await t.api("PUT", "/v1/users/d2/profile", { timezone: "America/New_York" })).status).toBe(200);
    const todos: [string, Record<string, unknown>][] = [
      ["overdue", { text: "Pay the electricity bill", due_date: "2025-01-14" }],
      ["today", { text: "Call the dentist", due_date: "2025-01-15", priority: 1 }],
      // 23:30 in Paris on the 15th is the 15th there, though it is the 15th 22:30 UTC.
      ["tonight", { text: "Submit the form", due_date: "2025-01-15T23:30:00+01:00" }],
      ["soon", { text: "Buy a gift", due_date: "2025-01-17" }],
      ["later", { text: "Renew passport", due_date: "2025-02-20" }],
      ["done", { text: "Already done", due_date: "2025-01-15", status: "done" }],
      ["undated", { text: "Someday" }],
    ];
    for (const [k, body] of todos) {
      const r = await t.api("POST", "/v1/users/d1/todos", body);
      expect(r.status).toBe(201);
      ids[k] = r.body.todo_id;
    }
    const goals: [string, Record<string, unknown>][] = [
      ["near", { title: "Finish the course", target_date: "2025-01-25" }],
      ["far", { title: "Run a marathon", target_date: "2025-10-01" }],
      ["past", { title: "Declutter the flat", target_date: "2025-01-01" }],
    ];
    for (const [k, body] of goals) {
      const r = await t.api("POST", "/v1/users/d1/goals", body);
      expect(r.status).toBe(201);
      ids[k] = r.body.goal_id;
    }
  });
  afterAll(async () => t?.stop());

  it("fires at 07:00 Paris time (06:00 UTC) and stores the digest", async () => {
    clock.now = new Date("2025-01-15T05:45:00Z");
    expect((await runTick(c.fanout, clock.now, true)).fanouts).toBe(0);
    clock.now = new Date("2025-01-15T06:00:00Z");
    expect((await runTick(c.fanout, clock.now, true)).fanouts).toBe(1);
    const d = await until(async () => {
      const r = await t.api("GET", "/v1/users/d1/digest");
      return r.status === 200 ? r.body : undefined;
    }, "digest");
    expect(d).toMatchObject({ user_id: "d1", date: "2025-01-15", timezone: "Europe/Paris", horizon_days: 3 });
    expect(d.overdue.map((x: { todo_id: string }) => x.todo_id)).toEqual([ids.overdue]);
    expect(d.due_today.map((x: { todo_id: string }) => x.todo_id)).toEqual([ids.today, ids.tonight]);
    expect(d.upcoming.map((x: { todo_id: string }) => x.todo_id)).toEqual([ids.soon]);
    expect(d.goals_approaching).toEqual([
      {
        goal_id: ids.near,
        title: "Finish the course",
        target_date: "2025-01-25",
        days_left: 10,
        priority: 3,
      },
    ]);
    expect(d.goals_past_target.map((g: { goal_id: string }) => g.goal_id)).toEqual([ids.past]);
    // New York's morning is later: no digest for d2 yet.
    expect((await t.api("GET", "/v1/users/d2/digest")).status).toBe(404);
  });

  it("is published once on the digest stream, even when the run repeats", async () => {
    const entries = async () => (await c.digests.streamEntries("d1")).length;
    expect(await entries()).toBe(1);
    const [[, fields] = ["", []]] = await c.redis.xrange(c.digests.streamKey, "-", "+");
    expect(fields.slice(0, 4)).toEqual(["user_id", "d1", "date", "2025-01-15"]);
    expect(JSON.parse(fields[5] as string).due_today).toHaveLength(2);
    const id = "digest.d1.2025-01-15.again";
    await c.queues.addDigests([
      { data: { user_id: "d1", local_date: "2025-01-15", tz: "Europe/Paris" }, jobId: id, delay: 0 },
    ]);
    const job = await until(async () => {
      const j = await c.queues.digest.getJob(id);
      return (await j?.getState()) === "completed" ? j : undefined;
    }, "second digest run");
    expect(job.returnvalue.status).toBe("exists");
    expect(await entries()).toBe(1);
  });

  it("is in the context block on that local day, also after the hot tier is lost", async () => {
    clock.now = new Date("2025-01-15T09:00:00Z");
    const ctx = (await t.api("GET", "/v1/users/d1/context")).body;
    expect(ctx.sections.digest).toMatchObject({ date: "2025-01-15" });
    expect(ctx.text).toContain(
      "## Today's digest\n2025-01-15: 1 overdue, 2 due today, 1 due in the next 3 days, 1 goal target(s) within 14 days",
    );
    expect(ctx.text).toContain("Due today: Call the dentist; Submit the form");
    expect(ctx.text).toContain("Goal targets approaching: Finish the course (2025-01-25, 10 days)");
    await t.system.deps.hot.forgetUser("d1");
    const cold = (await t.api("GET", "/v1/users/d1/context")).body;
    expect(cold.sections.digest).toMatchObject({ date: "2025-01-15" });
  });

  it("is left out of the context once it is no longer today", async () => {
    clock.now = new Date("2025-01-16T09:00:00Z");
    const ctx = (await t.api("GET", "/v1/users/d1/context")).body;
    expect(ctx.sections.digest).toBeNull();
    expect(ctx.text).not.toContain("Today's digest");
  });

  it("POST rebuilds today's digest on request; the day's event is not published twice", async () => {
    clock.now = new Date("2025-01-15T10:00:00Z");
    expect(
      (await t.api("POST", "/v1/users/d1/todos", { text: "Water the plants", due_date: "2025-01-15" }))
        .status,
    ).toBe(201);
    const r = await t.api("POST", "/v1/users/d1/digest", {});
    expect(r.status).toBe(201);
    expect(r.body.date).toBe("2025-01-15");
    expect(r.body.due_today).toHaveLength(3);
    expect((await t.api("GET", "/v1/users/d1/digest")).body.due_today).toHaveLength(3);
    expect((await c.digests.streamEntries("d1")).length).toBe(1);
    expect((await t.api("POST", "/v1/users/d1/digest", { date: "2025-01-01" })).status).toBe(400);
    // A user's first digest on request is stored and published.
    const d2 = await t.api("POST", "/v1/users/d2/digest", {});
    expect(d2.status).toBe(201);
    expect(d2.body).toMatchObject({ date: "2025-01-15", timezone: "America/New_York" });
    expect((await c.digests.streamEntries("d2")).length).toBe(1);
    await c.redis.del(c.digests.hotKey("d2"));
  });

  it("a user without a digest shows none, and the miss is cached", async () => {
    await t.system.deps.store.eraseUser("d2");
    await t.system.deps.hot.forgetUser("d2");
    expect((await t.api("PUT", "/v1/users/d2/profile", { timezone: "America/New_York" })).status).toBe(200);
    const ctx = (await t.api("GET", "/v1/users/d2/context")).body;
    expect(ctx.sections.digest).toBeNull();
    expect(await c.redis.get(c.digests.hotKey("d2"))).toBe('{"none":true}');
  });

  it("export lists journal and digest; erasure removes the index entry and stream events", async () => {
    expect((await t.api("POST", "/v1/users/d1/journal", { text: "A calm morning." })).status).toBe(201);
    const tier = cadenceTier(c);
    const exp = (await tier.export?.("d1")) as Record<string, unknown>;
    expect(exp.timezone_index).toBe("Europe/Paris");
    expect((exp.journal as { text: string }[]).map((e) => e.text)).toEqual(["A calm morning."]);
    expect(exp.digest).toMatchObject({ date: "2025-01-15" });
    expect(await tier.count("d1")).toBe(2);
    await tier.erase("d1");
    expect(await tier.count("d1")).toBe(0);
    expect(await c.index.zoneOfUser("d1")).toBeUndefined();
    expect(await c.index.zoneOfUser("d2")).toBe("America/New_York");
    // Erasing twice is fine.
    await tier.erase("d1");
    expect(t.system.deps.tiers.some((x) => x.name === "cadence")).toBe(true);
  });
});
