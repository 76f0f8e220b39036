import { isDeepStrictEqual } from "node:util";
import type { PersistPayload } from "../../queues/persist.js";
import type { PersistQueue, WriteRequest } from "../../queues/persist-queue.js";
import type { DynamoStore } from "../repositories/dynamo-store.js";
import type { HotStore } from "../repositories/redis-hot.js";
import { DAY_MS, shortHash } from "./clock.js";
import type { CadenceServices } from "./services.js";
import { llmFeedbackSummary, rulesFeedbackSummary } from "./summarizers/feedback.js";
import { llmGoalSummary, rulesGoalSummary, splitProgress } from "./summarizers/goals.js";
import { llmStateUpdates, rulesStateUpdates, STATE_FIELDS, type StateUpdate } from "./summarizers/state.js";

export interface StepDeps {
  store: DynamoStore;
  hot: HotStore;
  persist: PersistQueue;
  cadence: CadenceServices;
  now: () => Date;
}

/** A first run looks back this far; later runs start at the state's oldest field write. */
const JOURNAL_LOOKBACK_MS = 30 * DAY_MS;
const JOURNAL_CAP = 500;

/**
 * Writes go through the persist queue like every other write. The job id comes from the
 * content, so a retried step re-enqueues the same job instead of a second one.
 */
async function write(d: StepDeps, w: WriteRequest, key: string, seq?: number): Promise<void> {
  const s = seq ?? (await d.hot.nextSeq(w.user_id));
  await d.persist.enqueue({ ...w, seq: s } as PersistPayload, { wait: true, idempotencyKey: key });
}

const model = (d: StepDeps) => (d.cadence.settings.engine === "llm" ? d.cadence.model : undefined);

/** Condenses progress entries older than the keep window into each goal's progress_summary. */
export async function goalsStep(d: StepDeps, user: string): Promise<string> {
  const cutoff = d.now().getTime() - d.cadence.settings.goalKeepDays * DAY_MS;
  const goals = (await d.store.loadUser(user)).filter((x) => x.element === "goal");
  let n = 0;
  for (const g of goals) {
    const { old } = splitProgress(g.data.progress, cutoff);
    if (!old.length) continue;
    const prev = typeof g.data.progress_summary === "string" ? g.data.progress_summary : undefined;
    const m = model(d);
    const summary = m
      ? await llmGoalSummary(m, g.data as { title: string; description?: string }, prev, old)
      : rulesGoalSummary(prev, old);
    const drop = old.map((e) => e.progress_id);
    await write(
      d,
      { op: "condense_progress", element: "goal", user_id: user, id: g.id, drop, summary },
      `condense.${g.id}.${shortHash(drop.join(","))}`,
    );
    n++;
  }
  return n ? `condensed ${n} goal(s)` : "nothing to condense";
}

/** Journal entries since each field's last write update mood, focus, pains, wins and losses. */
export async function stateStep(d: StepDeps, user: string): Promise<string> {
  const cur = await d.store.get(user, "state");
  const floor = Math.min(...STATE_FIELDS.map((f) => cur?.fv[f] ?? 0));
  const fromMs = Math.max(Math.floor(floor / 1000) - 1, d.now().getTime() - JOURNAL_LOOKBACK_MS);
  const entries = await d.cadence.store.journalSince(user, new Date(fromMs).toISOString(), JOURNAL_CAP);
  if (!entries.length) return "no new journal entries";
  const m = model(d);
  const updates = m ? await llmStateUpdates(m, cur, entries) : rulesStateUpdates(cur, entries);
  if (!updates.length) return "no change";
  // One write per journal sequence number: each field competes with explicit edits at its own time.
  const bySeq = new Map<number, StateUpdate[]>();
  for (const u of updates) bySeq.set(u.seq, [...(bySeq.get(u.seq) ?? []), u]);
  for (const [seq, group] of bySeq) {
    const data = Object.fromEntries(group.map((u) => [u.field, u.value]));
    await write(
      d,
      { op: "patch", element: "state", user_id: user, data },
      `state.${seq}.${shortHash(JSON.stringify(data))}`,
      seq,
    );
  }
  return `updated ${updates.map((u) => u.field).join(", ")}`;
}

/** Rebuilds positives, negatives and suggestions from every episodic feedback record. */
export async function feedbackStep(d: StepDeps, user: string): Promise<string> {
  const records = await d.store.allFeedback(user);
  if (!records.length) return "no feedback";
  const m = model(d);
  const summary = m ? await llmFeedbackSummary(m, records) : rulesFeedbackSummary(records);
  const cur = await d.store.get(user, "feedback_summary");
  const same = (["positives", "negatives", "suggestions"] as const).every((k) =>
    isDeepStrictEqual(cur?.data[k] ?? [], summary[k]),
  );
  if (same) return "no change";
  await write(
    d,
    { op: "put", element: "feedback_summary", user_id: user, data: summary },
    // The revision in the key: a summary that returns to an earlier value is a new write.
    `feedback.${cur?.rev ?? 0}.${shortHash(JSON.stringify(summary))}`,
  );
  return `rebuilt from ${records.length} record(s)`;
}

export const STEPS = { goals: goalsStep, state: stateStep, feedback: feedbackStep } as const;
export type StepName = keyof typeof STEPS;
