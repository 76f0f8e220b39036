import { type Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { JobMap, QueueName } from "../queues/names.js";
import { createPersistProcessor, type PersistDeps } from "./persist.js";

export type WorkerDeps = PersistDeps;

type Processor<Q extends QueueName> = (job: Job<JobMap[Q]["payload"]>) => Promise<JobMap[Q]["result"]>;

/** Exactly one processor per queue: a missing or extra entry is a compile error. */
const PROCESSORS: { [Q in QueueName]: (deps: WorkerDeps) => Processor<Q> } = {
  persist: createPersistProcessor,
};

export interface WorkerOptions {
  connection: Redis;
  prefix: string;
  concurrency: number;
}

export function startWorker(name: QueueName, deps: WorkerDeps, opts: WorkerOptions): Worker {
  const processor = PROCESSORS[name](deps);
  return new Worker(name, processor, {
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: opts.concurrency,
    // A job whose worker died is handed to another worker after this long.
    stalledInterval: 15_000,
    maxStalledCount: 3,
  });
}
