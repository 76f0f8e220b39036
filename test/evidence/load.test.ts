import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMemorySystem } from "../support/memory.js";
import type { TestSystem } from "../support/system.js";

/**
 * Bounded load on loopback: W concurrent writers over M users, mixed element writes (to-dos,
 * goal progress, feedback, state) and context reads. Bounded by count (OPS per writer) and by
 * time (no new operation after BUDGET_MS). Nothing acknowledged is lost or doubled, and every
 * context read shows every to-do acknowledged before the read started and nothing never sent.
 */
const USERS = Number(process.env.LOAD_USERS ?? 16);
const WRITERS = Number(process.env.LOAD_WRITERS ?? 32);
const OPS = Number(process.env.LOAD_OPS ?? 40);
const BUDGET_MS = 90_000;

interface UserLog {
  todos: Map<string, string>; // id -> text, acknowledged
  sent: Set<string>; // every to-do text ever sent
  progress: string[];
  feedback: string[];
  states: number;
}

describe("load: concurrent writers and readers", () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startMemorySystem({ env: { CADENCE_SCHEDULES: "off" } });
  });
  afterAll(async () => t?.stop());

  it("loses nothing, duplicates nothing, reads are consistent with acknowledged writes", {
    timeout: 240_000,
  }, async () => {
    const users = Array.from({ length: USERS }, (_, i) => `load-${i}`);
    const goals = new Map<string, string>();
    const logs = new Map<string, UserLog>();
    for (const u of users) {
      const g = await t.api("POST", `/v1/users/${u}/goals`, { title: `Goal of ${u}` });
      expect(g.status).toBe(201);
      goals.set(u, g.body.goal_id);
      logs.set(u, { todos: new Map(), sent: new Set(), progress: [], feedback: [], states: 0 });
    }
    const log = (u: string) => logs.get(u) as UserLog;
    const stats = { ops: 0, reads: 0, checked: 0 };
    const start = performance.now();

    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = 0; i < OPS && performance.now() - start < BUDGET_MS; i++) {
          const u = users[(w * 7 + i) % USERS] as string;
          const a = log(u);
          const tag = `w${w}-${i}`;
          stats.ops++;
          switch (i % 5) {
            case 0: {
              a.sent.add(`todo ${tag}`);
              const r = await t.api("POST", `/v1/users/${u}/todos`, { text: `todo ${tag}` });
              expect(r.status).toBe(201);
              a.todos.set(r.body.todo_id, `todo ${tag}`);
              break;
            }
            case 1: {
              const r = await t.api("POST", `/v1/users/${u}/goals/${goals.get(u)}/progress`, {
                note: `step ${tag}`,
              });
              expect(r.status).toBe(201);
              a.progress.push(`step ${tag}`);
              break;
            }
            case 2: {
              const r = await t.api("POST", `/v1/users/${u}/feedback`, {
                interaction_id: tag,
                rating: (i % 5) + 1,
              });
              expect(r.status).toBe(201);
              a.feedback.push(tag);
              break;
            }
            case 3: {
              const r = await t.api("PATCH", `/v1/users/${u}/state`, { mood: `mood ${tag}` });
              expect(r.status).toBe(200);
              a.states++;
              break;
            }
            default: {
              const known = [...a.todos.keys()];
              const r = await t.api("GET", `/v1/users/${u}/context`);
              expect(r.status).toBe(200);
              const shown = new Map<string, string>(
                r.body.sections.todos.map((x: { todo_id: string; text: string }) => [x.todo_id, x.text]),
              );
              const omitted = new Set<string>(
                r.body.omitted.find((o: { section: string }) => o.section === "todos")?.keys ?? [],
              );
              for (const id of known)
                expect(shown.has(id) || omitted.has(id), `${u} context misses acknowledged to-do ${id}`).toBe(
                  true,
                );
              for (const text of shown.values())
                expect(a.sent.has(text), `${u} shows unknown ${text}`).toBe(true);
              stats.checked += known.length;
              stats.reads++;
            }
          }
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;

    for (const u of users) {
      const a = log(u);
      const want = [...a.todos.values()].sort();
      const todos = await t.api("GET", `/v1/users/${u}/todos`);
      expect(todos.body.items.map((x: { text: string }) => x.text).sort()).toEqual(want);
      const goal = await t.system.deps.store.get(u, "goal", goals.get(u) as string);
      const notes = ((goal?.data.progress as { note: string }[]) ?? []).map((p) => p.note).sort();
      expect(notes).toEqual([...a.progress].sort());
      expect(goal?.rev, "goal version = 1 + progress entries").toBe(1 + a.progress.length);
      const fb = await t.system.deps.store.allFeedback(u);
      expect(fb.map((x) => x.interaction_id).sort()).toEqual([...a.feedback].sort());
      if (a.states) {
        const state = await t.system.deps.store.get(u, "state");
        expect(state?.rev).toBeLessThanOrEqual(a.states);
        expect(String(state?.data.mood)).toMatch(/^mood w\d+-\d+$/);
      }
      // Redis after read-through agrees with DynamoDB.
      await t.system.deps.hot.forgetUser(u);
      const again = await t.api("GET", `/v1/users/${u}/todos`);
      expect(again.body.items.map((x: { text: string }) => x.text).sort()).toEqual(want);
    }
    console.log(
      `load: ${WRITERS} writers x ${USERS} users, ${stats.ops} operations in ${seconds.toFixed(1)} s, ` +
        `${stats.reads} context reads checked against ${stats.checked} acknowledged to-dos; 0 lost, 0 duplicated`,
    );
    expect(stats.reads).toBeGreaterThan(0);
  });
});
