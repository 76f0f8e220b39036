import type { Job } from "bullmq";
import type { PersistPayload, PersistResult } from "../queues/persist.js";
import type { EmbedRef } from "../src/semantic/sync.js";
import { EMBED_ELEMENTS, type EmbedElement } from "../src/semantic/vector-index.js";

export type EmbedEnqueue = (ref: EmbedRef) => Promise<void>;

/** The embed job a persisted write calls for, if its element is embedded at all. */
export function embedRefFor(p: PersistPayload, r: PersistResult): EmbedRef | undefined {
  if (p.op === "add_feedback") {
    const d = p.data as { comments?: unknown; timestamp?: unknown };
    if (typeof d.comments !== "string" || !d.comments.trim() || typeof d.timestamp !== "string")
      return undefined;
    return { user_id: p.user_id, element: "feedback", id: p.id, ts: d.timestamp };
  }
  if (!("element" in p) || !(EMBED_ELEMENTS as readonly string[]).includes(p.element)) return undefined;
  return { user_id: p.user_id, element: p.element as EmbedElement, id: r.id };
}

/**
 * Enqueues the follow-up embed job after the write is durable. Replays enqueue again (the
 * job is deduplicated per item), so a failed enqueue costs the persist job one retry; on any
 * later attempt it is only logged on the job and the write still succeeds (`npm run reindex`
 * repairs the index).
 */
export async function followUpEmbed(
  enqueue: EmbedEnqueue | undefined,
  job: Job,
  p: PersistPayload,
  r: PersistResult,
): Promise<void> {
  const ref = enqueue && embedRefFor(p, r);
  if (!ref || !enqueue) return;
  try {
    await enqueue(ref);
  } catch (err) {
    if (job.attemptsMade === 0 && (job.opts.attempts ?? 1) > 1) throw err;
    await job.log(`embed follow-up not enqueued: ${(err as Error).message}`).catch(() => {});
  }
}
