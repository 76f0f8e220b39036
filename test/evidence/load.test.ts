import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMemorySystem } from "../support/memory.js";
import type { TestSystem } from "../support/system.js";

/**
 * Bounded load on loopback: W concurrent writers over M users, mixed element writes and
 * context reads. Nothing acknowledged is lost or doubled, and every context read shows at
 * least every write acknowledged before it started.
 */
const USERS = 4;
const WRITERS = 8;
const OPS = 30;

describe("load: concurrent writers and readers", () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startMemorySystem();
  });
  afterAll(async () => t?.stop());

  it("loses nothing, duplicates nothing, reads are consistent with acknowledged writes", async () => {
    const users = Array.from({ length: USERS }, (_, i) => `load-${i}`);
    const goals = new Map<string, string>();
    for (const u of users) {
      const g = await t.api("POST", `/v1/users/${u}/goals`, { title: `Goal of ${u}` });
      goals.set(u, g.body.goal_id);
    }
    const acked = new Map(
      users.map((u) => [u, { todos: [] as string[], progress: [] as string[], feedback: [] as string[] }]),
    );
    let reads = 0;
    let checkedTodos = 0;

    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = 0; i < OPS; i++) {
          const u = users[(w + i) % USERS] as string;
          const a = acked.get(u);
          if (!a) throw new Error("unknown user");
          const tag = `w${w}-${i}`;
          switch (i % 4) {
            case 0: {
              const r = await t.api("POST", `/v1/users/${u}/todos`, { text: `todo ${tag}` });
              expect(r.status).toBe(201);
              a.todos.push(`todo ${tag}`);
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
            default: {
              const known = [...a.todos];
              const r = await t.api("GET", `/v1/users/${u}/context`);
              expect(r.status).toBe(200);
              const shown = new Set(r.body.sections.todos.map((x: { text: string }) => x.text));
              for (const k of known) expect(shown.has(k), `${u} context misses acknowledged ${k}`).toBe(true);
              checkedTodos += known.length;
              reads++;
            }
          }
        }
      }),
    );

    for (const u of users) {
      const a = acked.get(u);
      if (!a) throw new Error("unknown user");
      const todos = await t.api("GET", `/v1/users/${u}/todos`);
      const texts = todos.body.items.map((x: { text: string }) => x.text).sort();
      expect(texts).toEqual([...a.todos].sort());
      const goal = await t.system.deps.store.get(u, "goal", goals.get(u) as string);
      const notes = ((goal?.data.progress as { note: string }[]) ?? []).map((p) => p.note).sort();
      expect(notes).toEqual([...a.progress].sort());
      const fb = await t.api("GET", `/v1/users/${u}/feedback?limit=100`);
      expect(fb.body.items.map((x: { interaction_id: string }) => x.interaction_id).sort()).toEqual(
        [...a.feedback].sort(),
      );
      // Redis after read-through agrees with DynamoDB.
      await t.system.deps.hot.forgetUser(u);
      const again = await t.api("GET", `/v1/users/${u}/todos`);
      expect(again.body.items.map((x: { text: string }) => x.text).sort()).toEqual(texts);
    }
    console.log(
      `load: ${WRITERS * OPS} operations, ${reads} context reads checked against ${checkedTodos} acknowledged to-dos`,
    );
    expect(reads).toBeGreaterThan(0);
  });
});
