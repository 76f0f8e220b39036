import type { DefaultJobOptions } from "bullmq";

/** Retries with exponential backoff; finished jobs kept by age and count so Redis memory stays bounded. */
export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 8,
  backoff: { type: "exponential", delay: 500 },
  removeOnComplete: { age: 3600, count: 5000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 20000 },
};
