import type { Job, Worker } from "bullmq";
import type { Logger } from "pino";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { OpsQueues } from "./queues.js";

const JOB_STATES = [
  "waiting",
  "active",
  "delayed",
  "prioritized",
  "waiting-children",
  "completed",
  "failed",
] as const;

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    new Promise<never>((_, rej) => setTimeout(() => rej(new Error("timed out")), ms).unref()),
  ]);

/** The request id a write carried into its job (set by src/http/write.ts), if any. */
export const requestIdOf = (job: Job | undefined): string | undefined => {
  const rid = (job?.data as { request_id?: unknown } | undefined)?.request_id;
  return typeof rid === "string" ? rid : undefined;
};

/**
 * One registry per process (per system in tests). Labels are queue names, states, HTTP
 * methods, route patterns and status codes only: never a user id or a raw path.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly http: Histogram<"method" | "route" | "status">;
  readonly jobDuration: Histogram<"queue" | "outcome">;
  readonly jobFailures: Counter<"queue">;
  readonly context: Histogram<never>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.http = new Histogram({
      name: "memory_http_request_duration_seconds",
      help: "HTTP request latency by route pattern",
      labelNames: ["method", "route", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.jobDuration = new Histogram({
      name: "memory_job_duration_seconds",
      help: "Job processing time (one attempt) by queue and outcome",
      labelNames: ["queue", "outcome"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [this.registry],
    });
    this.jobFailures = new Counter({
      name: "memory_job_failures_total",
      help: "Failed job attempts by queue (retried or final)",
      labelNames: ["queue"],
      registers: [this.registry],
    });
    this.context = new Histogram({
      name: "memory_context_assembly_seconds",
      help: "Time to read the snapshot and build the per-turn context block",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [this.registry],
    });
  }

  /** Queue depth per state, read from Redis at scrape time (bounded so a scrape never hangs). */
  watchQueues(queues: OpsQueues, timeoutMs: number): void {
    new Gauge({
      name: "memory_queue_jobs",
      help: "Jobs per queue and state at scrape time",
      labelNames: ["queue", "state"],
      registers: [this.registry],
      async collect() {
        this.reset();
        await Promise.all(
          queues.all.map(async (q) => {
            try {
              const counts = await withTimeout(q.getJobCounts(...JOB_STATES), timeoutMs);
              for (const s of JOB_STATES) this.set({ queue: q.name, state: s }, counts[s] ?? 0);
            } catch {
              // Redis unreachable: the series disappears; /readyz says why.
            }
          }),
        );
      },
    });
  }

  /** Durations, failures and the worker's job log lines, which carry the write's request id. */
  instrumentWorker(queue: string, worker: Worker, log: Logger): void {
    const seconds = (job: Job) =>
      job.processedOn ? Math.max(0, ((job.finishedOn ?? Date.now()) - job.processedOn) / 1000) : undefined;
    worker.on("completed", (job) => {
      const s = seconds(job);
      if (s !== undefined) this.jobDuration.observe({ queue, outcome: "completed" }, s);
      log.info(
        { queue, job_id: job.id, request_id: requestIdOf(job), attempts: job.attemptsMade, seconds: s },
        "job completed",
      );
    });
    worker.on("failed", (job, err) => {
      this.jobFailures.inc({ queue });
      const s = job ? seconds(job) : undefined;
      if (s !== undefined) this.jobDuration.observe({ queue, outcome: "failed" }, s);
      log.warn(
        {
          queue,
          job_id: job?.id,
          request_id: requestIdOf(job),
          attempts: job?.attemptsMade,
          reason: err.message,
        },
        "job failed",
      );
    });
  }
}
