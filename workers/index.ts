import { type Job, type JobJson, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { JobMap, QueueName } from "../queues/names.js";
import type { StepDeps } from "../src/cadence/steps.js";
import { createCadenceProcessor } from "./cadence.js";
import { type CalendarWorkerDeps, createCalendarSyncProcessor } from "./calendar-sync.js";
import { createDigestProcessor, type DigestDeps } from "./digest.js";
import { createEmbedProcessor, type EmbedDeps } from "./embed.js";
import { createPersistProcessor, type PersistDeps } from "./persist.js";
import { createSummarizeProcessor } from "./summarize.js";

export type WorkerDeps = PersistDeps & StepDeps & DigestDeps & EmbedDeps & CalendarWorkerDeps;

type Processor<Q extends QueueName> = (job: Job<JobMap[Q]["payload"]>) => Promise<JobMap[Q]["result"]>;

/** Exactly one processor per queue: a missing or extra entry is a compile error. */
const PROCESSORS: { [Q in QueueName]: (deps: WorkerDeps) => Processor<Q> } = {
  persist: createPersistProcessor,
  cadence: createCadenceProcessor,
  summarize: createSummarizeProcessor,
  digest: createDigestProcessor,
  embed: createEmbedProcessor,
  "calendar-sync": createCalendarSyncProcessor,
};

export interface WorkerOptions {
  connection: Redis;
  prefix: string;
  concurrency: number;
  /** A job whose worker died is handed to another worker after about this long. */
  stalledIntervalMs?: number;
  /** A job counts as stalled once its worker has not renewed the lock for this long. */
  lockDurationMs?: number;
}

/** Jobs whose stored data was not JSON (written past BullMQ, straight into Redis). */
const UNPARSABLE = new WeakMap<Job, string>();

/**
 * BullMQ parses a job's data before any processor runs; data that is not JSON would throw
 * there on every fetch and the job would loop through "stalled" for ever. Such a job gets
 * empty data instead and is failed below with the parse error as its reason.
 */
class GuardedWorker extends Worker {
  protected override createJob(data: JobJson, jobId: string): Job {
    try {
      return super.createJob(data, jobId);
    } catch (err) {
      let job: Job;
      try {
        job = super.createJob({ ...data, data: "{}" }, jobId);
      } catch {
        job = super.createJob({ ...data, data: "{}", opts: "{}" } as JobJson, jobId);
      }
      UNPARSABLE.set(job, (err as Error).message);
      return job;
    }
  }
}

export function startWorker(name: QueueName, deps: WorkerDeps, opts: WorkerOptions): Worker {
  // Each entry is checked against JobMap above; the Worker itself takes any job.
  const run = PROCESSORS[name](deps) as (job: Job) => Promise<unknown>;
  const processor = (job: Job) => {
    const bad = UNPARSABLE.get(job);
    if (bad !== undefined) throw new UnrecoverableError(`invalid ${name} payload: data is not JSON (${bad})`);
    return run(job);
  };
  return new GuardedWorker(name, processor, {
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: opts.concurrency,
    stalledInterval: opts.stalledIntervalMs ?? 15_000,
    lockDuration: opts.lockDurationMs ?? 30_000,
    maxStalledCount: 3,
  });
}
