import type { Job } from "bullmq";
import { afterEach, describe, expect, it, onTestFailed } from "vitest";
import { QUEUE_NAMES, type QueueName } from "../../queues/names.js";
import { type Cluster, QUEUE_PREFIX, readyz, startCluster, type WorkerProc } from "../support/cluster.js";
import { until } from "../support/procs.js";

/**
 * Jobs pushed straight into the queues, past the API's validation: each fails at once with a
 * reason naming what is wrong (no retries of a job that can never succeed), and every worker
 * process keeps running and completes a valid job of each of its queues afterwards.
 */
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** Every worker names each issue as `<field> <message>` after the prefix, issues joined by `; `. */
const issue = (queue: string, field: string, message: string) =>
  new RegExp(`^invalid ${esc(queue)} payload: ${esc(field)} ${esc(message)}`);
/** One issue among several, wherever it stands in the list. */
const zodIssue = (field: string, message: string) => new RegExp(`(?:: |; )${esc(field)} ${esc(message)}`);
const prefix = (queue: string) => new RegExp(`^invalid ${esc(queue)} payload: `);
const missing = "Invalid input: expected string, received undefined";

/** Each bad payload and what its failure reason must say (every pattern must match). */
const BAD: Record<QueueName, { data: unknown; why: RegExp[] }[]> = {
  persist: [
    {
      data: { op: "explode", user_id: "u1", seq: 1 },
      why: [issue("persist", "op", "Invalid discriminator value. Expected 'put' | 'patch'")],
    },
    {
      data: { op: "put", element: "profile", user_id: "../etc", seq: 1, data: {} },
      why: [issue("persist", "user_id", "must be 1-64 characters of A-Z a-z 0-9 _ -")],
    },
    {
      data: { op: "create", element: "todo", user_id: "u1", id: "t1", seq: -1, data: {} },
      why: [issue("persist", "seq", "Too small: expected number to be >0")],
    },
    {
      data: { op: "put", element: "nope", user_id: "u1", seq: 1, data: { name: "x" } },
      why: [issue("persist", "element", 'Invalid option: expected one of "profile"|"preferences"')],
    },
    // No field to name: the whole payload is the wrong type (empty path).
    {
      data: "just a string",
      why: [/^invalid persist payload: \(data\) Invalid input: expected object, received string$/],
    },
    {
      data: null,
      why: [/^invalid persist payload: \(data\) Invalid input: expected object, received null$/],
    },
    {
      data: [1, 2, 3],
      why: [/^invalid persist payload: \(data\) Invalid input: expected object, received array$/],
    },
  ],
  embed: [
    {
      data: { user_id: "a b", element: "todo", id: "x" },
      why: [issue("embed", "user_id", "must be 1-64 characters")],
    },
    {
      data: { user_id: "u1", element: "feedback", id: "f1" },
      why: [issue("embed", "ts", "feedback needs ts")],
    },
    {
      data: { user_id: "u1", element: "profile", id: "self" },
      why: [issue("embed", "element", 'Invalid option: expected one of "preferences"|"goal"|"todo"')],
    },
  ],
  cadence: [
    {
      data: {},
      why: [prefix("cadence"), zodIssue("kind", "Invalid discriminator value. Expected 'tick' | 'fanout'")],
    },
    {
      data: { user_id: 5 },
      why: [prefix("cadence"), zodIssue("kind", "Invalid discriminator value. Expected 'tick' | 'fanout'")],
    },
    {
      data: "x",
      why: [
        prefix("cadence"),
        /^invalid cadence payload: \(data\) Invalid input: expected object, received string$/,
      ],
    },
  ],
  summarize: [
    {
      data: {},
      why: [
        prefix("summarize"),
        zodIssue("kind", 'Invalid option: expected one of "nightly"|"journal"'),
        zodIssue("user_id", missing),
      ],
    },
    {
      data: { user_id: "u1", kind: "explode" },
      why: [prefix("summarize"), zodIssue("kind", 'Invalid option: expected one of "nightly"|"journal"')],
    },
  ],
  digest: [
    {
      data: {},
      why: [
        prefix("digest"),
        zodIssue("user_id", missing),
        zodIssue("local_date", missing),
        zodIssue("tz", missing),
      ],
    },
    {
      data: { user_id: "{u}" },
      why: [
        prefix("digest"),
        zodIssue("user_id", "must be 1-64 characters"),
        zodIssue("local_date", missing),
        zodIssue("tz", missing),
      ],
    },
  ],
  "calendar-sync": [
    {
      data: {},
      why: [issue("calendar-sync", "kind", "Invalid discriminator value. Expected 'sync' | 'maintain'")],
    },
    {
      data: { user_id: "*" },
      why: [issue("calendar-sync", "kind", "Invalid discriminator value. Expected 'sync' | 'maintain'")],
    },
  ],
};

/**
 * The workers as their own process, `src/worker-main.ts <queues>` with every queue (the Procfile's
 * `worker`), apart from the API (`src/api-main.ts`). Each further process costs about 5 CPU-seconds
 * of start-up (tsx, googleapis...); splitting the queues over more is a change of this list only.
 */
const LAYOUT: QueueName[][] = [[...QUEUE_NAMES]];

/** A user with a to-do, known to the cadence index (UTC), for the valid jobs. */
const ALIVE = "alive-user";

describe("fault: malformed jobs pushed straight into the queues", { timeout: 300_000 }, () => {
  let c: Cluster | undefined;
  afterEach(async () => {
    await c?.cleanup();
    c = undefined;
  });

  it("each fails with a clear reason, once; every worker process keeps taking jobs", async () => {
    // The API alone (src/api-main.ts); the workers in their own process(es).
    c = await startCluster({ api: "api", workers: LAYOUT });
    const cl = c;
    onTestFailed(() => console.log(cl.logs()));
    expect(Object.keys(BAD).sort()).toEqual([...QUEUE_NAMES].sort());
    expect(LAYOUT.flat().sort()).toEqual([...QUEUE_NAMES].sort());
    const workerOf = (q: QueueName): WorkerProc => {
      const w = cl.workers.find((x) => x.queues.includes(q));
      if (!w) throw new Error(`no worker process for ${q}`);
      return w;
    };
    /** The job once it is finished, either way. */
    const finished = async (queue: string, id: string, what: string): Promise<Job> =>
      until(
        `${queue} job ${what} finished`,
        async () => {
          const state = await cl.queue(queue).getJobState(id);
          // Read once finished: a copy read while it ran would lack its result.
          return state === "completed" || state === "failed" ? cl.queue(queue).getJob(id) : undefined;
        },
        60_000,
      );
    const completes = async (queue: QueueName, data: object, what: string): Promise<Job> => {
      const added = await cl.queue(queue).add("valid", data, { attempts: 3 });
      const job = await finished(queue, added.id as string, what);
      expect(job.failedReason, `${queue} ${what}`).toBeUndefined();
      expect(await job.getState(), `${queue} ${what}: ${job.failedReason}`).toBe("completed");
      return job;
    };

    // A real user first (through the API and the persist worker), so the valid jobs below have work to do.
    const seed = await c.call("POST", `/v1/users/${ALIVE}/todos`, { text: "seeded before the bad jobs" });
    expect(seed.status, JSON.stringify(seed.body)).toBe(201);

    const jobs: { queue: QueueName; id: string; data: unknown; why: RegExp[] }[] = [];
    for (const queue of QUEUE_NAMES) {
      for (const { data, why } of BAD[queue]) {
        const job = await c.queue(queue).add("malformed", data as object, { attempts: 5 });
        jobs.push({ queue, id: job.id as string, data, why });
      }
    }
    // Data that is not even JSON: written over a delayed job before it becomes due.
    const garbage = await c.queue("persist").add("malformed", { op: "put" }, { delay: 1000, attempts: 5 });
    const garbageKey = `${QUEUE_PREFIX}:persist:${garbage.id}`;
    await c.r.hset(garbageKey, "data", "{not json");

    const reasons: string[] = [];
    for (const j of jobs) {
      const what = `${j.queue} ${JSON.stringify(j.data)}`;
      const job = await finished(j.queue, j.id, JSON.stringify(j.data));
      expect(await job.getState(), what).toBe("failed");
      for (const re of j.why) expect(job.failedReason, what).toMatch(re);
      expect(job.failedReason, what).not.toMatch(/\bat \S+:\d+|\.(?:ts|js):\d+|node_modules/); // a reason, not a stack
      // Not retried: a payload that can never be valid fails on its first attempt.
      expect(job.attemptsMade, `${what} attempts`).toBe(1);
      reasons.push(`${j.queue}: ${job.failedReason?.replace(/\s+/g, " ")}`);
    }

    // Read raw: BullMQ's own getJob cannot parse this job either.
    await until(
      "the non-JSON job failed",
      async () => (await cl.r.zscore(`${QUEUE_PREFIX}:persist:failed`, garbage.id as string)) !== null,
      60_000,
    );
    const [reason, attempts] = await c.r.hmget(garbageKey, "failedReason", "atm");
    expect(reason).toMatch(/^invalid persist payload: data is not JSON \(.*JSON.*\)$/);
    expect(attempts).toBe("1");
    reasons.push(`persist: ${reason}`);

    // The process serving each queue failed exactly its bad jobs, and is still running.
    const before: Record<string, number> = {};
    for (const q of QUEUE_NAMES) {
      const w = workerOf(q);
      expect(w.proc.child.exitCode, `${q} worker process`).toBeNull();
      // The counter moves on the worker's "failed" event, just after the job's state does.
      const want = BAD[q].length + (q === "persist" ? 1 : 0);
      const failed = await until(
        `${q} failures counted`,
        async () => {
          const n = await cl.jobsDone(w, q, "failed");
          return n >= want ? n : undefined;
        },
        10_000,
      ).catch(() => cl.jobsDone(w, q, "failed"));
      expect(failed, `${q} jobs failed in its process`).toBe(want);
      before[q] = await cl.jobsDone(w, q, "completed");
    }

    // Then one valid job straight into every queue, all at once: each completes, in its process.
    const seq = await c.hot.nextSeq(ALIVE);
    const today = new Date().toISOString().slice(0, 10);
    const [persisted, fanout, nightly, digest, evict, tick, syncJob] = await Promise.all([
      completes(
        "persist",
        {
          op: "create",
          element: "todo",
          user_id: ALIVE,
          id: "pushed-1",
          seq,
          data: { text: "pushed straight" },
        },
        "create to-do",
      ),
      completes(
        "cadence",
        { kind: "fanout", cadence: "digest", tz: "UTC", local_date: "2026-01-01", window_start: 0 },
        "digest fan-out",
      ),
      completes("summarize", { kind: "nightly", user_id: ALIVE, local_date: today }, "nightly run"),
      completes("digest", { user_id: ALIVE, local_date: today, tz: "UTC" }, "digest"),
      // calendar-sync: the jobs that need no Google complete; one that needs Google (not
      // configured here) fails at once with that reason, and the process completes the next job.
      completes("calendar-sync", { kind: "evict" }, "eviction sweep"),
      completes("calendar-sync", { kind: "tick" }, "tick"),
      cl
        .queue("calendar-sync")
        .add("valid", { kind: "sync", user_id: ALIVE, reason: "manual" }, { attempts: 3 })
        .then((j) => finished("calendar-sync", j.id as string, "sync without Google")),
    ]);
    expect(persisted.returnvalue).toMatchObject({
      element: "todo",
      id: "pushed-1",
      version: 1,
      applied: true,
    });
    expect(fanout.returnvalue.users, "users of the UTC bucket").toBeGreaterThanOrEqual(1);
    expect(Object.keys(nightly.returnvalue.steps).sort()).toEqual(["feedback", "goals", "state"]);
    expect(digest.returnvalue).toMatchObject({ status: "stored", counts: { due_today: expect.any(Number) } });
    expect(evict.returnvalue).toMatchObject({ kind: "evict", status: "done" });
    expect(tick.returnvalue).toMatchObject({ kind: "tick", status: "disabled" });
    expect(await syncJob.getState()).toBe("failed");
    expect(syncJob.failedReason).toBe("Google Calendar is not configured");
    expect(syncJob.attemptsMade).toBe(1);
    const [embedded, again] = await Promise.all([
      // The to-do the persist job just created.
      completes("embed", { user_id: ALIVE, element: "todo", id: "pushed-1" }, "to-do"),
      completes("calendar-sync", { kind: "evict" }, "eviction sweep after the failed sync"),
    ]);
    expect(embedded.returnvalue.embedded + embedded.returnvalue.unchanged, "one vector in line").toBe(1);
    expect(again.returnvalue).toMatchObject({ kind: "evict", status: "done" });

    // The pushed to-do is readable through the API, and a good write still goes through.
    const list = await c.call("GET", `/v1/users/${ALIVE}/todos`);
    expect(list.body.items.map((x: { text: string }) => x.text).sort()).toEqual([
      "pushed straight",
      "seeded before the bad jobs",
    ]);
    const ok = await c.call("POST", "/v1/users/after-bad-jobs/todos", { text: "still works" });
    expect(ok.status).toBe(201);

    // Every worker process: still running, ready, and it completed jobs of each of its queues
    // after the bad ones (its own counters: the jobs above ran in the process serving the queue).
    expect(c.api.child.exitCode).toBeNull();
    expect((await readyz(c)).status).toBe(200);
    const after: string[] = [];
    for (const [k, w] of c.workers.entries()) {
      expect(w.proc.child.exitCode, `worker process ${k}`).toBeNull();
      expect((await readyz(c, w)).status, `worker process ${k} /readyz`).toBe(200);
      const counts: string[] = [];
      for (const q of w.queues) {
        const n = await until(
          `${q} completions counted`,
          async () => (await cl.jobsDone(w, q, "completed")) - (before[q] ?? 0),
          10_000,
        ).catch(() => 0);
        expect(n, `${q} jobs completed in worker process ${k} after the bad ones`).toBeGreaterThanOrEqual(1);
        counts.push(`${q} ${n}`);
      }
      after.push(`process ${k}: ${counts.join(", ")}`);
    }
    console.log(
      `malformed jobs: ${jobs.length + 1} failed with a reason on their first attempt, e.g.\n  ` +
        `${[...reasons.slice(0, 3), reasons.find((r) => r.startsWith("digest")), reasons.at(-1)].join("\n  ")}\n` +
        `then completed after them (${after.join("; ")}); calendar sync without Google: "${syncJob.failedReason}"`,
    );
  });
});
