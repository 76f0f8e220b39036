import { expect } from "vitest";
import type { StoredDoc } from "../../src/elements/stored.js";
import type { HotDoc } from "../../src/repositories/redis-hot.js";
import { feedbackText, itemText, textHash } from "../../src/semantic/documents.js";
import { countedFeedback, KEEP_COUNTED } from "../../src/services/feedback-summary.js";
import type { Cluster } from "./cluster.js";

/** What the API acknowledged for one user during a fault drill. */
export interface Acked {
  /** Texts of to-dos created with 201/202. */
  todos: string[];
  /** One goal and the notes of progress entries acknowledged on it. */
  goal?: { id: string; notes: string[] };
  /** interaction_id of feedback acknowledged. */
  feedback: string[];
}

const countOf = (xs: string[], x: string) => xs.filter((y) => y === x).length;

function expectOnce(all: string[], acked: string[], what: string) {
  for (const a of acked) expect(countOf(all, a), `${what} "${a}"`).toBe(1);
  // A write refused with 503 may still have been queued; whatever landed, landed once.
  expect(new Set(all).size, `${what}: duplicates in ${JSON.stringify(all)}`).toBe(all.length);
}

const hotKey = (d: { id: string; rev: number }) => `${d.id}@${d.rev}`;

/** Redis and DynamoDB hold the same documents at the same revisions. */
async function expectHotMatches(c: Cluster, user: string, docs: StoredDoc[]) {
  const snap = await c.hot.readUser(user, 0, Number.MAX_SAFE_INTEGER, 10_000);
  expect(snap.warm, "hot tier warm after a read").toBe(true);
  for (const element of ["goal", "todo"] as const) {
    const want = docs.filter((d) => d.element === element).map(hotKey);
    const got = (snap[element] as HotDoc[]).map(hotKey);
    expect(got.sort(), `${element}s in Redis`).toEqual(want.sort());
  }
  for (const element of ["feedback_summary", "state"] as const) {
    const want = docs.find((d) => d.element === element);
    const got = snap.singletons[element];
    expect(got && hotKey(got), `${element} in Redis`).toBe(want && hotKey(want));
  }
}

/**
 * Every acknowledged write is present exactly once in DynamoDB (read directly) and in Redis,
 * both as the workers left it and after a read-through refill; a replayed job never shows
 * (versions count each applied write once).
 */
export async function expectExactlyOnce(c: Cluster, user: string, acked: Acked): Promise<void> {
  const docs = await c.store.loadUser(user);
  const todos = docs.filter((d) => d.element === "todo");
  expectOnce(
    todos.map((d) => String(d.data.text)),
    acked.todos,
    "to-do in DynamoDB",
  );
  for (const t of todos) expect(t.rev, `version of to-do "${t.data.text}"`).toBe(1);

  if (acked.goal) {
    const goal = docs.find((d) => d.element === "goal" && d.id === acked.goal?.id);
    expect(goal, "goal in DynamoDB").toBeDefined();
    const notes = ((goal?.data.progress as { note: string }[] | undefined) ?? []).map((p) => p.note);
    expectOnce(notes, acked.goal.notes, "progress entry in DynamoDB");
    // Created at version 1, each appended entry exactly one more.
    expect(goal?.rev, "goal version = 1 + progress entries").toBe(1 + notes.length);
  }

  const feedback = await c.store.allFeedback(user);
  expectOnce(
    feedback.map((f) => f.interaction_id),
    acked.feedback,
    "feedback entry in DynamoDB",
  );
  const summary = docs.find((d) => d.element === "feedback_summary");
  if (feedback.length) {
    // Each recorded feedback is appended to the summary exactly once, one version each (none
    // of these drills runs the nightly rebuild): a replay never counts one twice, and a job
    // whose worker died between the record and the summary still counts it.
    expect(summary?.rev, "feedback summary version = feedback entries").toBe(feedback.length);
    const counted = countedFeedback(summary);
    const ids = new Set(feedback.map((f) => f.feedback_id));
    expect(counted.size, "feedback ids the summary counted").toBe(Math.min(feedback.length, KEEP_COUNTED));
    for (const id of counted.keys()) expect(ids.has(id), `summary counted unknown feedback ${id}`).toBe(true);
  } else {
    expect(summary, "feedback summary without feedback").toBeUndefined();
  }

  // Redis as the workers left it (read through once so the user is warm), then after a refill.
  const list = await c.call("GET", `/v1/users/${user}/todos`);
  expect(list.status).toBe(200);
  await expectHotMatches(c, user, docs);
  await c.hot.forgetUser(user);
  const again = await c.call("GET", `/v1/users/${user}/todos`);
  expect(again.status).toBe(200);
  expectOnce(
    again.body.items.map((x: { text: string }) => x.text),
    acked.todos,
    "to-do in Redis after read-through",
  );
  await expectHotMatches(c, user, docs);
  if (acked.goal) {
    const g = await c.call("GET", `/v1/users/${user}/goals/${acked.goal.id}`);
    expectOnce(
      (g.body.progress ?? []).map((p: { note: string }) => p.note),
      acked.goal.notes,
      "progress entry in Redis after read-through",
    );
  }
}

/**
 * The vector index holds exactly one vector per embeddable item, each of the item's current
 * text (text hash), and nothing else.
 */
export async function expectEmbedded(c: Cluster, user: string): Promise<number> {
  const docs = await c.store.loadUser(user);
  const feedback = await c.store.allFeedback(user);
  const exp = await c.call("GET", `/v1/users/${user}/export`);
  expect(exp.status).toBe(200);
  const tier = exp.body.tiers.vectors as {
    embedder: string;
    vectors: { id: string; text_hash: string }[];
  };
  const want = new Map<string, string>();
  for (const d of docs)
    if (d.element === "goal" || d.element === "todo")
      want.set(`${d.element}:${d.id}`, textHash(tier.embedder, itemText(d.element, d.data)));
  for (const f of feedback) {
    const t = feedbackText(f);
    if (t) want.set(`feedback:${f.feedback_id}`, textHash(tier.embedder, t));
  }
  const got = new Map(tier.vectors.map((v) => [v.id, v.text_hash]));
  expect(tier.vectors.length, "one vector per id").toBe(got.size);
  expect(Object.fromEntries(got)).toEqual(Object.fromEntries(want));
  return want.size;
}
