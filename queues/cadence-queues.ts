import { type DefaultJobOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import {
  CADENCE_QUEUE,
  type CadencePayload,
  type CadenceResult,
  DIGEST_QUEUE,
  type DigestPayload,
  type DigestResult,
  jobIds,
  SUMMARIZE_QUEUE,
  type SummarizePayload,
  type SummarizeResult,
} from "./cadence.js";
import { DEFAULT_JOB_OPTIONS } from "./options.js";

/**
 * Per-user runs: few attempts (a model that fails three times will fail a fourth), and
 * finished jobs kept two days so a re-fanned (user, date) finds its job id still taken.
 */
export const PER_USER_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 3,
  backoff: { type: "exponential", delay: 2000 },
  removeOnComplete: { age: 2 * 86_400, count: 200_000 },
  removeOnFail: { age: 7 * 86_400, count: 50_000 },
};

export interface PerUserJob<P> {
  data: P;
  jobId: string;
  delay: number;
}

/** Producers of the cadence, summarize and digest queues (nothing else touches BullMQ directly). */
export class CadenceQueues {
  readonly cadence: Queue<CadencePayload, CadenceResult>;
  readonly summarize: Queue<SummarizePayload, SummarizeResult>;
  readonly digest: Queue<DigestPayload, DigestResult>;

  constructor(connection: Redis, prefix: string) {
    this.cadence = new Queue(CADENCE_QUEUE, { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS });
    this.summarize = new Queue(SUMMARIZE_QUEUE, {
      connection,
      prefix,
      defaultJobOptions: PER_USER_JOB_OPTIONS,
    });
    this.digest = new Queue(DIGEST_QUEUE, { connection, prefix, defaultJobOptions: PER_USER_JOB_OPTIONS });
  }

  async addCadence(jobs: { data: CadencePayload; jobId: string }[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.cadence.addBulk(
      jobs.map((j) => ({ name: j.data.kind, data: j.data, opts: { jobId: j.jobId } })),
    );
  }

  async addNightly(jobs: PerUserJob<SummarizePayload>[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.summarize.addBulk(
      jobs.map((j) => ({ name: j.data.kind, data: j.data, opts: { jobId: j.jobId, delay: j.delay } })),
    );
  }

  async addDigests(jobs: PerUserJob<DigestPayload>[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.digest.addBulk(
      jobs.map((j) => ({ name: "digest", data: j.data, opts: { jobId: j.jobId, delay: j.delay } })),
    );
  }

  /**
   * The post-journal run, delayed by `debounceMs` and deduplicated per user: entries written
   * while it waits are folded into it; one written while it runs queues exactly one more.
   */
  async triggerJournal(user: string, debounceMs: number): Promise<string | undefined> {
    const job = await this.summarize.add(
      "journal",
      { kind: "journal", user_id: user },
      { delay: debounceMs, deduplication: { id: jobIds.journalDedup(user), keepLastIfActive: true } },
    );
    return job.id;
  }

  async close(): Promise<void> {
    await Promise.all([this.cadence.close(), this.summarize.close(), this.digest.close()]);
  }
}
