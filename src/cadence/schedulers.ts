import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { QueueName } from "../../queues/names.js";
import { SCHEDULE_PREFIX, type ScheduleDecl } from "../../queues/schedules.js";

const LOCK_MS = 30_000;
const RELEASE =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

export interface ReconcileReport {
  upserted: string[];
  removed: string[];
}

async function withLock<T>(redis: Redis, key: string, fn: () => Promise<T>): Promise<T> {
  const token = randomUUID();
  const deadline = Date.now() + 2 * LOCK_MS;
  // Processes starting together take turns; each pass is idempotent, so waiting is only for tidiness.
  while ((await redis.set(key, token, "PX", LOCK_MS, "NX")) !== "OK") {
    if (Date.now() > deadline) throw new Error("scheduler lock held too long by another process");
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    return await fn();
  } finally {
    await redis.eval(RELEASE, 1, key, token);
  }
}

/** Jobs the removed scheduler already produced that have not started (its next run, or a due one). */
async function removeProduced(q: Queue, schedulerId: string): Promise<void> {
  const PAGE = 1000;
  const found = [];
  for (let start = 0; ; start += PAGE) {
    const jobs = await q.getJobs(["delayed", "waiting", "prioritized"], start, start + PAGE - 1, true);
    found.push(...jobs.filter((j) => j?.id?.startsWith(`repeat:${schedulerId}:`)));
    if (jobs.length < PAGE) break;
  }
  // Collected first: removing while paging would shift the pages. A job taken meanwhile is locked.
  for (const j of found) await j.remove().catch(() => undefined);
}

/**
 * Upserts every declared scheduler and removes the managed ones (id prefix `sched.`) that are
 * no longer declared, on every queue. Safe to run from any number of processes at once.
 */
export async function reconcileSchedules(
  redis: Redis,
  prefix: string,
  declared: readonly ScheduleDecl[],
  queues: readonly QueueName[],
): Promise<ReconcileReport> {
  for (const d of declared) {
    if (!d.id.startsWith(SCHEDULE_PREFIX))
      throw new Error(`schedule id ${d.id} must start with ${SCHEDULE_PREFIX}`);
  }
  const handles = new Map<string, Queue>();
  const queue = (name: string) => {
    let q = handles.get(name);
    if (!q) {
      q = new Queue(name, { connection: redis, prefix });
      handles.set(name, q);
    }
    return q;
  };
  try {
    return await withLock(redis, `${prefix}:sched:lock`, async () => {
      const report: ReconcileReport = { upserted: [], removed: [] };
      for (const d of declared) {
        await queue(d.queue).upsertJobScheduler(d.id, d.repeat, {
          name: d.job.name,
          data: d.job.data,
          opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 1000 } },
        });
        report.upserted.push(`${d.queue}/${d.id}`);
      }
      const wanted = new Set(declared.map((d) => `${d.queue}/${d.id}`));
      for (const name of new Set([...queues, ...declared.map((d) => d.queue)])) {
        for (const s of await queue(name).getJobSchedulers(0, -1, true)) {
          const id = s.id ?? s.key;
          if (id.startsWith(SCHEDULE_PREFIX) && !wanted.has(`${name}/${id}`)) {
            await queue(name).removeJobScheduler(id);
            await removeProduced(queue(name), id);
            report.removed.push(`${name}/${id}`);
          }
        }
      }
      return report;
    });
  } finally {
    await Promise.all([...handles.values()].map((q) => q.close()));
  }
}
