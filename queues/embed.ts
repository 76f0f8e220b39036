import { createHash } from "node:crypto";
import { type DefaultJobOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { z } from "zod";
import { ItemId, UserId } from "../src/elements/common.js";
import type { EmbedRef, SyncResult } from "../src/semantic/sync.js";
import { EMBED_ELEMENTS } from "../src/semantic/vector-index.js";

export const EMBED_QUEUE = "embed";

/**
 * One item to (re-)embed or remove. No text: the worker reads the current document, so a
 * job that waited through a burst of edits embeds only the latest text.
 */
export const EmbedPayload = z
  .object({
    user_id: UserId,
    element: z.enum(EMBED_ELEMENTS),
    id: ItemId,
    /** Feedback only: the record's timestamp (part of its DynamoDB key). */
    ts: z.string().max(64).optional(),
  })
  .refine((p) => p.element !== "feedback" || p.ts !== undefined, {
    message: "feedback needs ts",
    path: ["ts"],
  });
export type EmbedPayload = z.infer<typeof EmbedPayload>;
export type EmbedResult = SyncResult;

/** Embedding calls fail transiently (rate limits, timeouts): many attempts, growing backoff. */
export const EMBED_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 12,
  backoff: { type: "exponential", delay: 1000 },
  removeOnComplete: { age: 3600, count: 5000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 20000 },
};

/**
 * Hashed, so neither the user id nor the item id appears in Redis key names or the event
 * stream (erasure removes jobs by payload, not by these keys).
 */
export const embedDedupId = (r: EmbedRef) =>
  createHash("sha256").update(`${r.user_id}\n${r.element}\n${r.id}`).digest("hex").slice(0, 32);

/** Producer of the embed queue: one job per item at a time (BullMQ deduplication). */
export class EmbedQueue {
  readonly queue: Queue<EmbedPayload, EmbedResult>;

  constructor(
    connection: Redis,
    prefix: string,
    private readonly debounceMs: number,
  ) {
    this.queue = new Queue(EMBED_QUEUE, { connection, prefix, defaultJobOptions: EMBED_JOB_OPTIONS });
    this.queue.on("error", () => {}); // the shared connection's own listener reports outages
  }

  /**
   * While a job for the item waits, further adds are dropped (it will read the latest text);
   * while one runs, the latest add is kept and queued when it finishes (`keepLastIfActive`),
   * so an edit made during an embedding is never lost. The delay gathers a burst of edits.
   */
  async enqueue(ref: EmbedRef): Promise<void> {
    const data: EmbedPayload = {
      user_id: ref.user_id,
      element: ref.element,
      id: ref.id,
      ...(ref.ts ? { ts: ref.ts } : {}),
    };
    await this.queue.add(EMBED_QUEUE, data, {
      deduplication: { id: embedDedupId(ref), keepLastIfActive: true },
      ...(this.debounceMs > 0 ? { delay: this.debounceMs } : {}),
    });
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
