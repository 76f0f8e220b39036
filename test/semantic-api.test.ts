import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { embedQueueIdle, semanticOf, vectorMeta, waitFor } from "./semantic/helpers.js";
import { startMemorySystem } from "./support/memory.js";
import type { TestSystem } from "./support/system.js";

let ts: TestSystem;
const U = "sem-api";

beforeAll(async () => {
  ts = await startMemorySystem({ env: { EMBED_DEBOUNCE_MS: "0" } });
});
afterAll(async () => {
  await ts?.stop();
});

const q = (s: string) => encodeURIComponent(s);

async function createGoal(body: object): Promise<string> {
  const r = await ts.api("POST", `/v1/users/${U}/goals`, body);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.goal_id as string;
}

async function completedEmbedJob(id: string, after: number) {
  const queue = ts.system.ops.queues.byName.get("embed");
  const jobs = (await queue?.getJobs(["completed"], 0, 500)) ?? [];
  return jobs.find((j) => j.data.id === id && (j.finishedOn ?? 0) >= after);
}

describe("embed on write, search", () => {
  let goalId = "";

  it("embeds a goal after its write; search answers with the current document", async () => {
    goalId = await createGoal({
      title: "Run a half marathon",
      description: "Lisbon, in October",
      priority: 2,
    });
    const meta = await waitFor(() => vectorMeta(ts, U, `goal:${goalId}`), "goal vector");
    expect(meta).toMatchObject({
      element: "goal",
      item_id: goalId,
      text_hash: expect.stringMatching(/^[0-9a-f]{32}$/),
    });

    const r = await ts.api("GET", `/v1/users/${U}/search?q=${q("how is my marathon training going?")}`);
    expect(r.status).toBe(200);
    expect(r.body.embedder).toEqual({ identity: "lexical-v1-1024", kind: "lexical" });
    const hit = r.body.hits[0];
    expect(hit).toMatchObject({ element: "goal", item_id: goalId, score: expect.any(Number) });
    const current = await ts.api("GET", `/v1/users/${U}/goals/${goalId}`);
    expect(hit.item).toEqual(current.body);
  });

  it("a PATCH that leaves the text alone costs no embedding; a new title re-embeds", async () => {
    const sem = semanticOf(ts);
    const before = await vectorMeta(ts, U, `goal:${goalId}`);
    const texts = sem.batcher.stats.texts;
    const t0 = Date.now();
    const p = await ts.api("PATCH", `/v1/users/${U}/goals/${goalId}`, { priority: 1, status: "active" });
    expect(p.status).toBe(200);
    const job = await waitFor(() => completedEmbedJob(goalId, t0), "embed job after the priority change");
    expect(job.returnvalue).toEqual({ embedded: 0, unchanged: 1, deleted: 0 });
    expect(sem.batcher.stats.texts).toBe(texts);
    expect(await vectorMeta(ts, U, `goal:${goalId}`)).toEqual(before);

    const t1 = Date.now();
    await ts.api("PATCH", `/v1/users/${U}/goals/${goalId}`, { title: "Swim across the lake" });
    const job2 = await waitFor(() => completedEmbedJob(goalId, t1), "embed job after the title change");
    expect(job2.returnvalue).toEqual({ embedded: 1, unchanged: 0, deleted: 0 });
    expect(sem.batcher.stats.texts).toBe(texts + 1);
    expect((await vectorMeta(ts, U, `goal:${goalId}`))?.text_hash).not.toBe(before?.text_hash);
    const r = await ts.api("GET", `/v1/users/${U}/search?q=${q("swimming in the lake")}&k=1`);
    expect(r.body.hits[0].item.title).toBe("Swim across the lake");
  });

  it("a delete removes the vector, and search never shows the deleted item", async () => {
    const id = await createGoal({ title: "Learn to juggle" });
    await waitFor(() => vectorMeta(ts, U, `goal:${id}`), "juggle vector");
    expect((await ts.api("DELETE", `/v1/users/${U}/goals/${id}`)).status).toBe(204);
    await waitFor(async () => (await vectorMeta(ts, U, `goal:${id}`)) === undefined, "vector removed");
    const r = await ts.api("GET", `/v1/users/${U}/search?q=juggle`);
    expect(r.body.hits.map((h: { item_id: string }) => h.item_id)).not.toContain(id);
  });

  it("preferences: one vector per field; a removed field loses its vector", async () => {
    const put = await ts.api("PUT", `/v1/users/${U}/preferences`, {
      food_preferences: ["I love sushi and ramen"],
      hobby_preferences: ["chess", "birdwatching"],
      attributes: { music: "Nina Simone" },
    });
    expect(put.status).toBe(200);
    const sem = semanticOf(ts);
    await waitFor(
      async () => (await sem.index.listIds(U, "preferences:")).length === 3,
      "three preference vectors",
    );
    expect(await sem.index.listIds(U, "preferences:")).toEqual([
      "preferences:attributes.music",
      "preferences:food_preferences",
      "preferences:hobby_preferences",
    ]);
    const r = await ts.api("GET", `/v1/users/${U}/search?q=${q("what food do I enjoy?")}`);
    expect(r.body.hits[0]).toMatchObject({
      element: "preferences",
      item_id: "food_preferences",
      item: { field: "food_preferences", value: ["I love sushi and ramen"] },
    });

    await ts.api("PATCH", `/v1/users/${U}/preferences`, { hobby_preferences: null });
    await waitFor(
      async () => (await sem.index.listIds(U, "preferences:")).length === 2,
      "hobby vector removed",
    );
    expect(await sem.index.listIds(U, "preferences:")).not.toContain("preferences:hobby_preferences");
  });

  it("feedback comments are embedded; feedback without a comment is not", async () => {
    const a = await ts.api("POST", `/v1/users/${U}/feedback`, {
      interaction_id: "i1",
      rating: 2,
      comments: "Far too long, please keep answers shorter",
    });
    const b = await ts.api("POST", `/v1/users/${U}/feedback`, { interaction_id: "i2", rating: 5 });
    expect([a.status, b.status]).toEqual([201, 201]);
    await waitFor(() => vectorMeta(ts, U, `feedback:${a.body.feedback_id}`), "feedback vector");
    await waitFor(() => embedQueueIdle(ts), "embed queue idle");
    expect(await vectorMeta(ts, U, `feedback:${b.body.feedback_id}`)).toBeUndefined();
    const r = await ts.api("GET", `/v1/users/${U}/search?q=${q("shorter answers")}&elements=feedback`);
    expect(r.body.hits).toHaveLength(1);
    expect(r.body.hits[0].item).toMatchObject({
      feedback_id: a.body.feedback_id,
      rating: 2,
      comments: "Far too long, please keep answers shorter",
    });
  });

  it("an event evicted from the hot tier is answered from DynamoDB", async () => {
    const e = await ts.api("POST", `/v1/users/${U}/events`, {
      summary: "Pottery workshop in Porto",
      start: "2024-03-02T10:00:00Z",
    });
    expect(e.status).toBe(201);
    await waitFor(() => vectorMeta(ts, U, `event:${e.body.event_id}`), "event vector");
    const stored = await ts.system.deps.store.get(U, "event", e.body.event_id);
    await ts.system.deps.hot.remove(stored as NonNullable<typeof stored>); // what the eviction sweep does
    expect(await ts.system.deps.reader.get(U, "event", e.body.event_id)).toBeUndefined();
    const r = await ts.api("GET", `/v1/users/${U}/search?q=pottery&elements=events`);
    expect(r.body.hits[0]).toMatchObject({
      element: "event",
      item_id: e.body.event_id,
      item: { summary: "Pottery workshop in Porto", event_id: e.body.event_id },
    });
  });

  it("filters by element (singular or plural), honours k, validates the query", async () => {
    await ts.api("POST", `/v1/users/${U}/todos`, { text: "Buy running shoes for the half marathon" });
    await waitFor(() => embedQueueIdle(ts), "embed queue idle");
    const all = await ts.api("GET", `/v1/users/${U}/search?q=${q("running marathon shoes")}`);
    expect(new Set(all.body.hits.map((h: { element: string }) => h.element)).size).toBeGreaterThan(1);
    const todos = await ts.api(
      "GET",
      `/v1/users/${U}/search?q=${q("running marathon shoes")}&elements=todos`,
    );
    expect(todos.body.hits.length).toBeGreaterThan(0);
    expect(todos.body.hits.every((h: { element: string }) => h.element === "todo")).toBe(true);
    const one = await ts.api("GET", `/v1/users/${U}/search?q=${q("running")}&k=1`);
    expect(one.body.hits).toHaveLength(1);
    const bad = await ts.api("GET", `/v1/users/${U}/search?q=x&elements=profile`);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error.details)).toContain("query.elements");
    expect((await ts.api("GET", `/v1/users/${U}/search`)).status).toBe(400);
    expect((await ts.api("GET", `/v1/users/${U}/search?q=x`, undefined, { token: null })).status).toBe(401);
  });
});

describe("turn context with ?query=", () => {
  const V = "sem-ctx";
  let activeId = "";
  let doneId = "";

  beforeAll(async () => {
    await ts.api("PUT", `/v1/users/${V}/profile`, { name: "Ana", timezone: "Europe/Lisbon" });
    const a = await ts.api("POST", `/v1/users/${V}/goals`, { title: "Run a half marathon" });
    const d = await ts.api("POST", `/v1/users/${V}/goals`, {
      title: "Learn Portuguese",
      description: "evening lessons in Porto",
      status: "completed",
    });
    activeId = a.body.goal_id;
    doneId = d.body.goal_id;
    await ts.api("POST", `/v1/users/${V}/feedback`, {
      interaction_id: "i1",
      rating: 1,
      comments: "Stop recommending meat dishes, I am vegetarian",
    });
    await waitFor(async () => (await semanticOf(ts).index.listIds(V)).length === 3, "three vectors");
  });

  it("adds a relevant section with scores for items the structured sections do not show", async () => {
    const sem = semanticOf(ts);
    const n = sem.queries;
    const r = await ts.api(
      "GET",
      `/v1/users/${V}/context?query=${q("can you recommend a Portuguese lesson or a meat dish?")}`,
    );
    expect(r.status).toBe(200);
    expect(sem.queries - n).toBe(1); // one vector query for the whole turn
    const rel = r.body.sections.relevant as { element: string; item_id: string; score: number }[];
    expect(rel.map((h) => `${h.element}:${h.item_id}`).sort()).toEqual(
      [`goal:${doneId}`, expect.stringMatching(/^feedback:/)].sort(),
    );
    for (const h of rel) expect(h.score).toBeGreaterThan(0);
    expect(r.body.text).toContain("## Relevant to this message");
    expect(r.body.text).toContain("[goal, completed] Learn Portuguese");
    expect(r.body.text).toContain("[earlier feedback, rated 1/5] Stop recommending meat dishes");
  });

  it("does not repeat an item already shown above", async () => {
    const r = await ts.api("GET", `/v1/users/${V}/context?query=${q("marathon training tips")}`);
    expect(r.body.sections.goals.map((g: { goal_id: string }) => g.goal_id)).toContain(activeId);
    expect(r.body.sections.relevant.map((h: { item_id: string }) => h.item_id)).not.toContain(activeId);
    expect(r.body.text.match(/half marathon/g)).toHaveLength(1);
  });

  it("without query the block is as before: no relevant section, no vector query", async () => {
    const sem = semanticOf(ts);
    const n = sem.queries;
    const r = await ts.api("GET", `/v1/users/${V}/context`);
    expect(r.status).toBe(200);
    expect(r.body.sections).not.toHaveProperty("relevant");
    expect(r.body.text).not.toContain("Relevant to this message");
    expect(sem.queries).toBe(n);
  });

  it("honours max_chars: relevant lines are dropped (and reported) before who the user is", async () => {
    const full = await ts.api("GET", `/v1/users/${V}/context?query=${q("Portuguese lesson meat dish")}`);
    const max = full.body.text.indexOf("## Relevant") > 0 ? 120 : 100;
    const r = await ts.api(
      "GET",
      `/v1/users/${V}/context?query=${q("Portuguese lesson meat dish")}&max_chars=${max}`,
    );
    expect(r.body.text.length).toBeLessThanOrEqual(max);
    expect(r.body.text).toContain("Name: Ana");
    const dropped = r.body.omitted.find((o: { section: string }) => o.section === "relevant");
    expect(dropped?.items).toBeGreaterThan(0);
    expect(r.body.sections.relevant.length + dropped.items).toBe(full.body.sections.relevant.length);
  });

  it("a cold hot tier still answers from the same single vector query", async () => {
    await ts.system.deps.hot.forgetUser(V);
    const sem = semanticOf(ts);
    const n = sem.queries;
    const r = await ts.api("GET", `/v1/users/${V}/context?query=${q("Portuguese")}`);
    expect(sem.queries - n).toBe(1);
    expect(r.body.sections.relevant[0]).toMatchObject({ element: "goal", item_id: doneId });
  });
});

describe("lifecycle", () => {
  it("the local index survives a restart", async () => {
    ts = await ts.restart();
    const r = await ts.api("GET", `/v1/users/${U}/search?q=${q("what food do I enjoy?")}&k=1`);
    expect(r.body.hits[0]).toMatchObject({ element: "preferences", item_id: "food_preferences" });
  });

  it("export lists the user's vectors; erasure removes them", async () => {
    const ids = await semanticOf(ts).index.listIds(U);
    expect(ids.length).toBeGreaterThan(3);
    const ex = await ts.api("GET", `/v1/users/${U}/export`);
    expect(ex.status).toBe(200);
    expect(ex.body.tiers.vectors).toMatchObject({ index: "local", embedder: "lexical-v1-1024" });
    expect(ex.body.tiers.vectors.vectors.map((v: { id: string }) => v.id).sort()).toEqual([...ids].sort());
    const del = await ts.api("DELETE", `/v1/users/${U}`);
    expect(del.status, JSON.stringify(del.body)).toBe(200);
    expect(del.body.remaining.vectors).toBe(0);
    expect(await semanticOf(ts).index.listIds(U)).toEqual([]);
    expect(await semanticOf(ts).index.listIds("sem-ctx")).toHaveLength(3);
  });
});
