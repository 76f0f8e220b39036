import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { COLLECTIONS, ELEMENTS, SINGLETONS } from "../elements/registry.js";
import { toWire } from "../elements/wire.js";
import type { DynamoStore } from "../repositories/dynamo-store.js";
import type { HotStore } from "../repositories/redis-hot.js";
import type { UserTier } from "./user-tiers.js";

const PLURAL = { goal: "goals", todo: "todos", event: "events" } as const;

/** Redis hot tier: every key under the user's `{user}` tag (documents, indexes, sequence, rate bucket). */
export function hotTier(hot: HotStore): UserTier {
  return {
    name: "redis",
    erase: async (user) => {
      await hot.forgetUser(user);
    },
    count: (user) => hot.countUserKeys(user),
    // A cache of DynamoDB: exporting the source of truth covers it.
  };
}

/**
 * DynamoDB partition USER#<id>: documents and episodic records. Export reads the source of
 * truth rather than the hot tier, whose lists are capped for the per-turn context.
 */
export function dynamoTier(store: DynamoStore): UserTier {
  return {
    name: "dynamodb",
    erase: async (user) => {
      await store.eraseUser(user);
    },
    count: (user) => store.countUserItems(user),
    export: async (user) => {
      const docs = await store.loadUser(user);
      const out: Record<string, unknown> = {};
      for (const s of SINGLETONS) {
        const d = docs.find((x) => x.element === s);
        out[s] = d ? toWire(s, d) : null;
      }
      for (const c of COLLECTIONS) {
        out[PLURAL[c]] = docs.filter((x) => x.element === c).map((d) => toWire(c, d));
      }
      const known = new Set(Object.keys(ELEMENTS));
      const other = docs.filter((d) => !known.has(d.element)).length;
      if (other > 0) out.other_documents = other; // written by a tier that exports them itself
      out.feedback = await store.allFeedback(user);
      return out;
    },
  };
}

// Every state a job can sit in: finished jobs are kept for a while and still hold the payload.
const STATES = [
  "waiting",
  "prioritized",
  "delayed",
  "waiting-children",
  "active",
  "completed",
  "failed",
] as const;
const PAGE = 500;

interface UserJob {
  queue: Queue;
  id: string;
  state: (typeof STATES)[number];
  name: string;
  data: unknown;
  created_at: string;
}

async function userJobs(queues: readonly Queue[], user: string): Promise<UserJob[]> {
  const out: UserJob[] = [];
  for (const queue of queues) {
    for (const state of STATES) {
      for (let start = 0; ; start += PAGE) {
        const jobs = await queue.getJobs(state, start, start + PAGE - 1, true);
        for (const j of jobs) {
          if (j?.id && (j.data as { user_id?: unknown } | undefined)?.user_id === user) {
            out.push({
              queue,
              id: j.id,
              state,
              name: j.name,
              data: j.data,
              created_at: new Date(j.timestamp).toISOString(),
            });
          }
        }
        if (jobs.length < PAGE) break;
      }
    }
  }
  return out;
}

async function userSchedulers(queues: readonly Queue[], user: string) {
  const out: { queue: Queue; key: string; name: string; data: unknown }[] = [];
  for (const queue of queues) {
    for (const s of await queue.getJobSchedulers(0, -1, true)) {
      const data = s.template?.data as { user_id?: unknown } | undefined;
      if (data?.user_id === user) out.push({ queue, key: s.key, name: s.name, data });
    }
  }
  return out;
}

/** Entries of a queue's event stream (capped by BullMQ). */
async function* eventEntries(redis: Redis, queue: Queue): AsyncGenerator<{ id: string; fields: string[] }> {
  const key = queue.keys.events as string;
  let from = "-";
  for (;;) {
    const page = await redis.xrange(key, from, "+", "COUNT", 1000);
    for (const [id, fields] of page) yield { id, fields };
    const last = page.at(-1);
    if (page.length < 1000 || !last) return;
    from = `(${last[0]}`;
  }
}

const jobIdOf = (fields: string[]) => {
  const i = fields.indexOf("jobId");
  return i >= 0 ? (fields[i + 1] ?? "") : "";
};

/**
 * Jobs (any state) and job schedulers whose payload carries `user_id`, in every queue, and
 * the entries of each queue's event stream about those jobs (ids, return values, reasons).
 * Active jobs cannot be removed while a worker holds them: erase skips them, count still
 * sees them, and the erasure service waits and runs again once they have finished.
 */
export function queueTier(queues: readonly Queue[], redis: Redis): UserTier {
  return {
    name: "queues",
    erase: async (user) => {
      const gone = new Set<string>();
      const schedulers: string[] = [];
      for (const s of await userSchedulers(queues, user)) {
        await s.queue.removeJobScheduler(s.key);
        schedulers.push(`repeat:${s.key}:`);
      }
      for (const j of await userJobs(queues, user)) {
        if (j.state === "active") continue;
        // A job picked up between listing and removal is locked: the next pass gets it.
        if ((await j.queue.remove(j.id).catch(() => 0)) === 1) gone.add(j.id);
      }
      for (const q of queues) {
        const drop: string[] = [];
        for await (const e of eventEntries(redis, q)) {
          const id = jobIdOf(e.fields);
          if (gone.has(id) || schedulers.some((p) => id.startsWith(p))) drop.push(e.id);
        }
        if (drop.length) await redis.xdel(q.keys.events as string, ...drop);
      }
    },
    count: async (user) =>
      (await userSchedulers(queues, user)).length + (await userJobs(queues, user)).length,
    export: async (user) => ({
      jobs: (await userJobs(queues, user)).map((j) => ({
        queue: j.queue.name,
        job_id: j.id,
        state: j.state,
        name: j.name,
        created_at: j.created_at,
        data: j.data,
      })),
      schedules: (await userSchedulers(queues, user)).map((s) => ({
        queue: s.queue.name,
        scheduler_id: s.key,
        name: s.name,
        data: s.data,
      })),
    }),
  };
}
