import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startMemorySystem } from "./support/memory.js";
import { until } from "./support/ops.js";
import type { TestSystem } from "./support/system.js";

const NOW = new Date("2026-03-10T12:00:00.000Z");
const U = "restart-user";

async function ok(t: TestSystem, method: string, path: string, body?: unknown) {
  const r = await t.api(method, path, body);
  expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
  return r.body;
}

async function seed(t: TestSystem) {
  await ok(t, "PUT", `/v1/users/${U}/profile`, { name: "Ana", timezone: "UTC" });
  await ok(t, "PUT", `/v1/users/${U}/preferences`, { languages: ["pt"] });
  await ok(t, "PUT", `/v1/users/${U}/state`, { mood: "rested" });
  const g = await ok(t, "POST", `/v1/users/${U}/goals`, { title: "climb", target_date: "2026-08-01" });
  await ok(t, "POST", `/v1/users/${U}/goals/${g.goal_id}/progress`, { note: "bouldering twice" });
  const td = await ok(t, "POST", `/v1/users/${U}/todos`, { text: "buy shoes", due_date: "2026-03-09" });
  const ev = await ok(t, "POST", `/v1/users/${U}/events`, { summary: "gym", start: "2026-03-12T18:00:00Z" });
  await ok(t, "POST", `/v1/users/${U}/feedback`, { interaction_id: "i", rating: 1, comments: "too long" });
  return { goal: g.goal_id as string, todo: td.todo_id as string, event: ev.event_id as string };
}

async function readAll(t: TestSystem, ids: { goal: string; todo: string; event: string }) {
  const out: Record<string, unknown> = {};
  for (const p of [
    "profile",
    "preferences",
    "state",
    "goals",
    `goals/${ids.goal}`,
    "todos",
    `todos/${ids.todo}`,
    "events",
    `events/${ids.event}`,
    "feedback",
    "feedback/summary",
    "context",
  ])
    out[p] = await ok(t, "GET", `/v1/users/${U}/${p}`);
  return out;
}

describe("restart keeps data", () => {
  const running: TestSystem[] = [];
  afterAll(async () => {
    await running.at(-1)?.stop();
  });

  it("same DATA_DIR, table and prefixes: everything is there, warm and after Redis forgets the user", async () => {
    const t1 = await startMemorySystem({ now: () => NOW });
    running.push(t1);
    const ids = await seed(t1);
    const before = await readAll(t1, ids);

    const t2 = await t1.restart();
    running.push(t2);
    expect(await readAll(t2, ids)).toEqual(before);

    // DynamoDB (dynalite's files under DATA_DIR) alone has to bring it all back.
    await t2.system.deps.hot.forgetUser(U);
    const t3 = await t2.restart();
    running.push(t3);
    expect(await readAll(t3, ids)).toEqual(before);

    // And writing goes on where it left off.
    const p = await ok(t3, "PATCH", `/v1/users/${U}/profile`, { name: "Ana B." });
    expect(p.version).toBe(2);
    const g = await ok(t3, "GET", `/v1/users/${U}/goals/${ids.goal}`);
    expect(g.progress).toHaveLength(1);
  });
});

describe("a write queued before a restart is applied after it", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "cm-restart-"));
  const id = randomBytes(4).toString("hex");
  const env = { KEY_PREFIX: `tr${id}`, QUEUE_PREFIX: `trq${id}`, DYNAMODB_TABLE: `memory_r${id}` };
  let last: TestSystem | undefined;
  afterAll(async () => {
    await last?.stop();
  });

  it("is picked up by the workers of the next start", async () => {
    // An API without workers: the job can only wait in the queue.
    const apiOnly = await startMemorySystem({ dataDir, env, workers: [] });
    last = apiOnly;
    const r = await apiOnly.api("PUT", `/v1/users/${U}/profile?wait=false`, { name: "queued" });
    expect(r.status).toBe(202);
    expect((await apiOnly.api("GET", r.body.status_url)).body.state).toBe("waiting");
    await apiOnly.system.close();
    last = undefined;

    const full = await startMemorySystem({ dataDir, env });
    last = full;
    const job = await until("job completed", async () => {
      const j = await full.api("GET", r.body.status_url);
      return j.body.state === "completed" ? j.body : undefined;
    });
    expect(job.result).toMatchObject({ applied: true, version: 1 });
    expect((await full.api("GET", `/v1/users/${U}/profile`)).body.name).toBe("queued");
  });
});
