import { type Job, Worker } from "bullmq";
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
}

export function startWorker(name: QueueName, deps: WorkerDeps, opts: WorkerOptions): Worker {
  // Each entry is checked against JobMap above; the Worker itself takes any job.
  const processor = PROCESSORS[name](deps) as (job: Job) => Promise<unknown>;
  return new Worker(name, processor, {
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: opts.concurrency,
    stalledInterval: opts.stalledIntervalMs ?? 15_000,
    maxStalledCount: 3,
  });
}
