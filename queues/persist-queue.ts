import { createHash, randomUUID } from "node:crypto";
import { Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import { DEFAULT_JOB_OPTIONS } from "./options.js";
import { PERSIST_QUEUE, type PersistPayload, type PersistResult } from "./persist.js";

export class JobFailedError extends Error {
  constructor(
    readonly jobId: string,
    reason: string,
  ) {
    super(reason);
  }
}

export type WriteRequest = PersistPayload extends infer P
  ? P extends unknown
    ? Omit<P, "seq">
    : never
  : never;

export interface EnqueueOutcome {
  job_id: string;
  result?: PersistResult;
  /** true when the wait ran out before the worker finished (the write is still queued). */
  pending: boolean;
}

/** The persist queue and its enqueue helper (producers never touch BullMQ directly). */
export class PersistQueue {
  readonly queue: Queue<PersistPayload, PersistResult>;
  private readonly events: QueueEvents;

  constructor(
    connection: Redis,
    blocking: Redis,
    prefix: string,
    private readonly waitMs: number,
  ) {
    this.queue = new Queue(PERSIST_QUEUE, { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS });
    this.events = new QueueEvents(PERSIST_QUEUE, { connection: blocking, prefix });
    // Connection errors surface as 503s on the requests that hit them; without listeners BullMQ prints them raw.
    this.queue.on("error", () => {});
    this.events.on("error", () => {});
  }

  async ready(): Promise<void> {
    await this.events.waitUntilReady();
  }

  /**
   * `idempotencyKey` (the client's Idempotency-Key header) makes a retried request map to
   * the same job, so it is applied once.
   */
  async enqueue(
    payload: PersistPayload,
    opts: { wait: boolean; idempotencyKey?: string },
  ): Promise<EnqueueOutcome> {
    const jobId = opts.idempotencyKey
      ? `idem-${createHash("sha256").update(`${payload.user_id}\n${opts.idempotencyKey}`).digest("hex").slice(0, 40)}`
      : randomUUID();
    const job = await this.queue.add(PERSIST_QUEUE, payload, { jobId });
    const id = job.id ?? jobId;
    if (!opts.wait) return { job_id: id, pending: true };
    try {
      const result = (await job.waitUntilFinished(this.events, this.waitMs)) as PersistResult;
      return { job_id: id, result, pending: false };
    } catch (err) {
      if (/timed out/i.test(String((err as Error).message))) return { job_id: id, pending: true };
      throw new JobFailedError(id, String((err as Error).message));
    }
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
  }
}
