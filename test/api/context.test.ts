import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectInvalid, startMemorySystem } from "../support/memory.js";
import type { TestSystem } from "../support/system.js";

// Tuesday noon UTC; every date below is relative to it.
const NOW = new Date("2026-03-10T12:00:00.000Z");

describe("context", () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startMemorySystem({ now: () => NOW });
  });
  afterAll(async () => t?.stop());

  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await t.api(method, path, body);
    expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
    return r.body;
  };
  const context = async (user: string, query = "") => {
    const r = await t.api("GET", `/v1/users/${user}/context${query}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body;
  };

  describe("a full user", () => {
    const U = "c1";
    const goals: Record<string, string> = {};
    const todos: Record<string, string> = {};
    beforeAll(async () => {
      await ok("PUT", `/v1/users/${U}/profile`, { name: "Ana", timezone: "UTC", locale: "pt-BR" });
      await ok("PUT", `/v1/users/${U}/preferences`, {
        occupation: "nurse",
        food_preferences: ["vegetarian"],
      });
      await ok("PUT", `/v1/users/${U}/state`, { mood: "hopeful", focus_areas: ["sleep"] });
      await ok("POST", `/v1/users/${U}/feedback`, {
        interaction_id: "i1",
        rating: 5,
        comments: "Short answers",
      });
      for (const [title, extra] of [
        ["p2 june", { priority: 2, target_date: "2026-06-01" }],
        ["p1 december", { priority: 1, target_date: "2026-12-01" }],
        ["p1 april", { priority: 1, target_date: "2026-04-01" }],
        ["p2 undated", { priority: 2 }],
        ["paused p1", { priority: 1, status: "paused" }],
        ["completed p1", { priority: 1, status: "completed" }],
        ["abandoned p1", { priority: 1, status: "abandoned" }],
      ] as const) {
        goals[title] = (await ok("POST", `/v1/users/${U}/goals`, { title, ...extra })).goal_id;
      }
      for (const [text, extra] of [
        ["later this month", { due_date: "2026-03-20" }],
        ["last week", { due_date: "2026-03-03" }],
        ["no due date", {}],
        ["an hour ago", { due_date: "2026-03-10T11:00:00Z" }],
        ["in an hour", { due_date: "2026-03-10T13:00:00Z" }],
        ["due today", { due_date: "2026-03-10" }],
        ["started, overdue", { due_date: "2026-03-09", status: "in_progress" }],
        ["done long ago", { due_date: "2026-01-01", status: "done" }],
        ["cancelled", { due_date: "2026-03-01", status: "cancelled" }],
      ] as const) {
        todos[text] = (await ok("POST", `/v1/users/${U}/todos`, { text, ...extra })).todo_id;
      }
      for (const [summary, extra] of [
        ["ended yesterday", { start: "2026-03-09T18:00:00Z", end: "2026-03-09T20:00:00Z" }],
        ["ongoing", { start: "2026-03-10T11:00:00Z", end: "2026-03-10T13:00:00Z" }],
        ["all day today", { start: "2026-03-10" }],
        ["tomorrow", { start: "2026-03-11T09:00:00Z" }],
        ["in six days", { start: "2026-03-16T09:00:00Z" }],
        ["in eight days", { start: "2026-03-18T09:00:00Z" }],
        ["last month", { start: "2026-02-10T09:00:00Z" }],
        ["next year", { start: "2027-03-10" }],
      ] as const) {
        await ok("POST", `/v1/users/${U}/events`, { summary, ...extra });
      }
    });

    it("has one section per element plus rendered text", async () => {
      const c = await context(U);
      expect(c.user_id).toBe(U);
      expect(c.generated_at).toBe(NOW.toISOString());
      expect(c.sections.basic_info).toMatchObject({ name: "Ana", timezone: "UTC" });
      expect(c.sections.preferences).toMatchObject({ occupation: "nurse" });
      expect(c.sections.current_state).toMatchObject({ mood: "hopeful" });
      expect(c.sections.feedback_summary).toMatchObject({ positives: ["Short answers"] });
      expect(c.omitted).toEqual([]);
      expect(c.truncated).toBe(false);
      for (const s of ["Name: Ana", "Occupation: nurse", "Mood: hopeful", "Short answers"])
        expect(c.text).toContain(s);
    });

    it("active goals only, by priority then target date (undated last)", async () => {
      const c = await context(U);
      expect(c.sections.goals.map((g: any) => g.title)).toEqual([
        "p1 april",
        "p1 december",
        "p2 june",
        "p2 undated",
      ]);
      expect(c.text).not.toMatch(/paused p1|completed p1|abandoned p1/);
      const at = (s: string) => c.text.indexOf(s);
      expect(at("p1 april")).toBeLessThan(at("p1 december"));
      expect(at("p1 december")).toBeLessThan(at("p2 june"));
      expect(at("p2 june")).toBeLessThan(at("p2 undated"));
    });

    it("pending to-dos by due date; past-due ones are marked overdue in JSON and text", async () => {
      const c = await context(U);
      expect(c.sections.todos.map((x: any) => [x.text, x.overdue])).toEqual([
        ["last week", true],
        ["started, overdue", true],
        ["due today", false],
        ["an hour ago", true],
        ["in an hour", false],
        ["later this month", false],
        ["no due date", false],
      ]);
      const line = (s: string) => c.text.split("\n").find((l: string) => l.includes(s)) as string;
      for (const s of ["last week", "started, overdue", "an hour ago"])
        expect(line(s)).toMatch(/\boverdue\b/);
      for (const s of ["due today", "in an hour", "later this month", "no due date"])
        expect(line(s)).not.toMatch(/\boverdue\b/);
      expect(c.text).not.toMatch(/done long ago|cancelled/);
    });

    it("events of the next 7 days only (ongoing and all-day today included)", async () => {
      const c = await context(U);
      expect(c.sections.events.map((e: any) => e.summary)).toEqual([
        "all day today",
        "ongoing",
        "tomorrow",
        "in six days",
      ]);
      expect(c.text).not.toMatch(/ended yesterday|in eight days|last month|next year/);
    });

    it("?max_chars at or above the full length changes nothing", async () => {
      const full = await context(U);
      const same = await context(U, `?max_chars=${full.text.length}`);
      expect(same.text).toBe(full.text);
      expect(same.omitted).toEqual([]);
    });

    it("?max_chars trims lowest-priority items first and says what was left out", async () => {
      const full = await context(U);
      const fullLines = full.text.split("\n") as string[];
      const nameLine = "Name: Ana";
      const lowClass = /^(Occupation|Food|Mood|Focus areas|Liked):/;
      const nonOverdueTodos = new Set(
        full.sections.todos.filter((x: any) => !x.overdue).map((x: any) => x.todo_id as string),
      );
      const goalOrder = full.sections.goals.map((g: any) => g.goal_id as string);
      let sawPartialGoals = false;
      let sawGoalsAndNothingLower = false;

      for (let budget = full.text.length - 1; budget >= 100; budget -= 7) {
        const c = await context(U, `?max_chars=${budget}`);
        expect(c.text.length).toBeLessThanOrEqual(budget);
        if (!c.truncated) for (const l of c.text.split("\n")) expect(fullLines).toContain(l);

        const dropped = new Map<string, string[]>(c.omitted.map((o: any) => [o.section, o.keys]));
        for (const o of c.omitted) expect(o.items).toBe(o.keys.length);
        expect(c.omitted.length).toBeGreaterThan(0);

        // The JSON sections lose exactly the items the text lost.
        const keptGoals = c.sections.goals.map((g: any) => g.goal_id);
        expect(keptGoals).toEqual(
          goalOrder.filter((id: string) => !(dropped.get("goals") ?? []).includes(id)),
        );
        // ...and the goals that stay are the most important ones.
        expect(keptGoals).toEqual(goalOrder.slice(0, keptGoals.length));
        const keptTodos = c.sections.todos.map((x: any) => x.todo_id);
        for (const id of dropped.get("todos") ?? []) expect(keptTodos).not.toContain(id);

        if (keptGoals.length < goalOrder.length) {
          // Goals go only after preferences, state, feedback, events and not-yet-due to-dos.
          for (const l of c.text.split("\n")) expect(l).not.toMatch(lowClass);
          expect(c.sections.events).toEqual([]);
          for (const id of keptTodos) expect(nonOverdueTodos.has(id)).toBe(false);
          if (keptGoals.length > 0) sawPartialGoals = true;
        }
        if (keptGoals.length === goalOrder.length && !c.text.match(lowClass)) sawGoalsAndNothingLower = true;
        if (budget >= 200) expect(c.text).toContain(nameLine);
      }
      expect(sawPartialGoals).toBe(true);
      expect(sawGoalsAndNothingLower).toBe(true);
    });

    it("the first item dropped is the least important: the feedback summary before preferences", async () => {
      const full = await context(U);
      const c = await context(U, `?max_chars=${full.text.length - 1}`);
      expect(c.omitted).toEqual([{ section: "feedback_summary", items: 1, keys: ["positives"] }]);
      expect(c.text).not.toContain("Short answers");
      expect(c.text).toContain("Occupation: nurse");
    });

    it("bad max_chars is a 400", async () => {
      expectInvalid(
        await t.api("GET", `/v1/users/${U}/context?max_chars=99`),
        "query.max_chars",
        "too_small",
      );
      expectInvalid(
        await t.api("GET", `/v1/users/${U}/context?max_chars=lots`),
        "query.max_chars",
        "invalid_type",
      );
      expectInvalid(
        await t.api("GET", `/v1/users/${U}/context?max_chars=100001`),
        "query.max_chars",
        "too_big",
      );
      expectInvalid(
        await t.api("GET", `/v1/users/${U}/context?max_chars=1.5`),
        "query.max_chars",
        "invalid_type",
      );
    });
  });

  it("to-dos due today are overdue once the day is over in the user's time zone", async () => {
    // At 12:00 UTC it is already 02:00 on 2026-03-11 in Kiritimati (UTC+14).
    const U = "c-tz";
    await ok("PUT", `/v1/users/${U}/profile`, { timezone: "Pacific/Kiritimati" });
    await ok("POST", `/v1/users/${U}/todos`, { text: "pay rent", due_date: "2026-03-10" });
    await ok("POST", `/v1/users/${U}/todos`, { text: "call mum", due_date: "2026-03-11" });
    const c = await context(U);
    expect(c.sections.todos.map((x: any) => [x.text, x.overdue])).toEqual([
      ["pay rent", true],
      ["call mum", false],
    ]);
    expect(c.text).toContain("pay rent (due 2026-03-10) overdue");
  });

  it("within a section the later (less important) fields go first: the name stays longest", async () => {
    const U = "c-basic";
    await ok("PUT", `/v1/users/${U}/profile`, {
      name: "Maria Fernanda Albuquerque",
      date_of_birth: "1990-04-12",
      gender: "female",
      timezone: "America/Sao_Paulo",
      locale: "pt-BR",
    });
    const full = await context(U);
    expect(full.text.length).toBeGreaterThan(120);
    const c = await context(U, "?max_chars=100");
    expect(c.text).toContain("Name: Maria Fernanda Albuquerque");
    expect(c.text).not.toContain("Locale");
    expect(c.omitted[0].section).toBe("basic_info");
    expect(c.omitted[0].keys[0]).toBe("locale");
  });

  it("hundreds of finished to-dos and goals do not crowd the open ones out of the context", async () => {
    // Straight into a warm hot tier (the context reads only Redis when warm): 600 of each.
    const U = "c-history";
    const hot = t.system.deps.hot;
    const doc = (element: "goal" | "todo", id: string, data: Record<string, unknown>) => ({
      user_id: U,
      element,
      id,
      data,
      fv: {},
      seq: 1,
      rev: 1,
      created_at: NOW.toISOString(),
      updated_at: NOW.toISOString(),
    });
    const docs = [];
    for (let i = 0; i < 600; i++) {
      const day = `2025-${String((i % 12) + 1).padStart(2, "0")}-${String((i % 28) + 1).padStart(2, "0")}`;
      docs.push(doc("todo", `done-${i}`, { text: `old ${i}`, due_date: day, status: "done", priority: 3 }));
      docs.push(doc("goal", `won-${i}`, { title: `won ${i}`, status: "completed", priority: 1 }));
    }
    docs.push(
      doc("todo", "open", { text: "still open", due_date: "2026-03-20", status: "pending", priority: 3 }),
    );
    docs.push(doc("goal", "live", { title: "still going", status: "active", priority: 2 }));
    await hot.refill(U, docs);

    const c = await context(U);
    expect(c.sections.todos.map((x: any) => x.todo_id)).toEqual(["open"]);
    expect(c.sections.goals.map((g: any) => g.goal_id)).toEqual(["live"]);
  });

  it("a user with only one element gets a context with the rest empty", async () => {
    await ok("POST", "/v1/users/c-one/todos", { text: "only this" });
    const c = await context("c-one");
    expect(c.sections).toMatchObject({
      basic_info: null,
      preferences: null,
      current_state: null,
      feedback_summary: null,
      goals: [],
      events: [],
    });
    expect(c.sections.todos).toHaveLength(1);
    expect(c.text).toContain("only this");
  });

  it("404 for a user with no memory; 400 for a bad user id", async () => {
    const r = await t.api("GET", "/v1/users/c-nobody/context");
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("not_found");
    expectInvalid(await t.api("GET", "/v1/users/bad!id/context"), "path.user_id");
  });
});
