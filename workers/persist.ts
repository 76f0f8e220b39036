import { type Job, UnrecoverableError } from "bullmq";
import { PersistPayload, type PersistResult } from "../queues/persist.js";
import type { StoredDoc } from "../src/elements/stored.js";
import type { DynamoStore } from "../src/repositories/dynamo-store.js";
import { VersionConflict } from "../src/repositories/dynamo-store.js";
import type { HotStore } from "../src/repositories/redis-hot.js";
import { applyWrite } from "../src/services/apply.js";
import { appendToSummary, summaryCounts } from "../src/services/feedback-summary.js";
import { type EmbedEnqueue, followUpEmbed } from "./embed-follow-up.js";
import { parsePayload } from "./payload.js";

export interface PersistDeps {
  store: DynamoStore;
  hot: HotStore;
  now?: () => Date;
  /** Cadences: the user index (timezone buckets) and the journal writer (src/cadence/). */
  userIndex?: {
    noteWrite(doc: { user_id: string; element: string; data: Record<string, unknown> }): Promise<void>;
  };
  journal?: { add(p: Extract<PersistPayload, { op: "add_journal" }>): Promise<PersistResult> };
  /** Semantic memory: enqueues the embed job of an embeddable element (queues/embed.ts). */
  embed?: EmbedEnqueue;
}

const MAX_CONFLICTS = 20;

/**
 * DynamoDB first (conditional on the revision read), then Redis (guarded by revision).
 * A replay finds the write already applied and only repairs Redis, so at-least-once
 * delivery never shows twice.
 */
export function createPersistProcessor(deps: PersistDeps) {
  const now = () => (deps.now?.() ?? new Date()).toISOString();

  async function applyWithRetry(p: Exclude<PersistPayload, { op: "add_journal" }>): Promise<PersistResult> {
    const element = p.op === "add_feedback" ? "feedback_summary" : p.element;
    const id = "id" in p && p.id && p.op !== "add_feedback" ? p.id : "self";
    for (let i = 0; i < MAX_CONFLICTS; i++) {
      const cur = await deps.store.get(p.user_id, element, id);
      if (!cur && p.op === "create" && (await deps.store.wasDeleted(p.user_id, element, id)))
        return { element, id, version: null, applied: false }; // a replay after the delete
      const r = applyWrite(cur, p, now());
      try {
        if (r.kind === "write") {
          await deps.store.put(r.doc);
          await deps.hot.upsert(r.doc);
          await deps.userIndex?.noteWrite(r.doc);
          return { element, id, version: r.doc.rev, applied: true };
        }
        if (r.kind === "delete" && cur) {
          await deps.store.delete(cur);
          await deps.hot.remove(cur);
          return { element, id, version: null, applied: true };
        }
      } catch (err) {
        if (err instanceof VersionConflict) continue; // another write landed first: re-read and re-apply
        throw err;
      }
      if (cur) await deps.hot.upsert(cur); // replay: make sure the hot tier has what DynamoDB has
      return { element, id, version: cur?.rev ?? null, applied: false };
    }
    throw new Error(`gave up after ${MAX_CONFLICTS} concurrent-write conflicts`);
  }

  async function addFeedback(p: Extract<PersistPayload, { op: "add_feedback" }>): Promise<PersistResult> {
    const data = p.data as {
      interaction_id: string;
      rating: number;
      tags?: string[];
      comments?: string;
      timestamp?: string;
    };
    // The record's key includes its timestamp: a replay must derive the same one (seq is Redis time in µs).
    const timestamp = data.timestamp ?? new Date(Math.floor(p.seq / 1000)).toISOString();
    const record = { ...data, feedback_id: p.id, timestamp, seq: p.seq };
    const added = await deps.store.addFeedback(p.user_id, record);
    // Not only when `added`: a worker killed between the record and the summary leaves a
    // record the summary lacks, and its replay finds the record already there. The summary
    // notes the ids it counted in the same conditional write, so this adds it exactly once.
    for (let i = 0; i < MAX_CONFLICTS; i++) {
      const cur = await deps.store.get(p.user_id, "feedback_summary");
      if (summaryCounts(cur, record, added)) {
        if (cur) await deps.hot.upsert(cur); // replay: make sure the hot tier has what DynamoDB has
        return { element: "feedback", id: p.id, version: 1, applied: added };
      }
      const doc: StoredDoc = appendToSummary(cur, p.user_id, record, now());
      try {
        await deps.store.put(doc);
      } catch (err) {
        if (err instanceof VersionConflict) continue; // another write landed first: re-read and re-apply
        throw err;
      }
      await deps.hot.upsert(doc);
      return { element: "feedback", id: p.id, version: 1, applied: true };
    }
    throw new Error(`gave up after ${MAX_CONFLICTS} concurrent-write conflicts`);
  }

  return async (job: Job): Promise<PersistResult> => {
    const p = parsePayload(PersistPayload, job.data, "persist");
    if (p.op === "add_journal") {
      if (!deps.journal) throw new UnrecoverableError("this worker has no journal store");
      return deps.journal.add(p);
    }
    if (p.op === "add_feedback")
      await deps.userIndex?.noteWrite({ user_id: p.user_id, element: "feedback", data: {} });
    const result = p.op === "add_feedback" ? await addFeedback(p) : await applyWithRetry(p);
    await followUpEmbed(deps.embed, job, p, result);
    return result;
  };
}
