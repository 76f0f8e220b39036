import { afterEach, describe, expect, it, onTestFailed } from "vitest";
import { QUEUE_NAMES } from "../../queues/names.js";
import { type Cluster, QUEUE_PREFIX, startCluster } from "../support/cluster.js";
import { until } from "../support/procs.js";

/**
 * Jobs pushed straight into the queues, past the API's validation: each fails at once with a
 * reason naming what is wrong (no retries of a job that can never succeed), and the process
 * serving the queues keeps running and keeps serving good jobs.
 */
const BAD: Record<string, unknown[]> = {
  persist: [
    { op: "explode", user_id: "u1", seq: 1 },
    { op: "put", element: "profile", user_id: "../etc", seq: 1, data: {} },
    { op: "create", element: "todo", user_id: "u1", id: "t1", seq: -1, data: {} },
    { op: "put", element: "nope", user_id: "u1", seq: 1, data: { name: "x" } },
    "just a string",
    null,
    [1, 2, 3],
  ],
  embed: [
    { user_id: "a b", element: "todo", id: "x" },
    { user_id: "u1", element: "feedback", id: "f1" },
    { user_id: "u1", element: "profile", id: "self" },
  ],
  cadence: [{}, { user_id: 5 }, "x"],
  summarize: [{}, { user_id: "u1", kind: "explode" }],
  digest: [{}, { user_id: "{u}" }],
  "calendar-sync": [{}, { user_id: "*" }],
};

describe("fault: malformed jobs pushed straight into the queues", { timeout: 300_000 }, () => {
  let c: Cluster | undefined;
  afterEach(async () => {
    await c?.cleanup();
    c = undefined;
  });

  it("each fails with a clear reason, once; the worker keeps running", async () => {
    // src/main.ts: the API and a worker for every queue in one process.
    c = await startCluster({ api: "main", workers: [] });
    const cl = c;
    onTestFailed(() => console.log(cl.logs()));
    expect(Object.keys(BAD).sort()).toEqual([...QUEUE_NAMES].sort());

    const jobs: { queue: string; id: string; data: unknown }[] = [];
    for (const [queue, payloads] of Object.entries(BAD)) {
      for (const data of payloads) {
        const job = await c.queue(queue).add("malformed", data as object, { attempts: 5 });
        jobs.push({ queue, id: job.id as string, data });
      }
    }
    // Data that is not even JSON: written over a delayed job before it becomes due.
    const garbage = await c.queue("persist").add("malformed", { op: "put" }, { delay: 1500, attempts: 5 });
    const garbageKey = `${QUEUE_PREFIX}:persist:${garbage.id}`;
    await c.r.hset(garbageKey, "data", "{not json");

    const reasons: string[] = [];
    for (const j of jobs) {
      const job = await until(
        `${j.queue} job ${JSON.stringify(j.data)} failed`,
        async () => {
          const x = await cl.queue(j.queue).getJob(j.id);
          return x && (await x.getState()) === "failed" ? x : undefined;
        },
        60_000,
      );
      expect(job.failedReason, `${j.queue} ${JSON.stringify(j.data)}`).toMatch(
        /invalid|payload|JSON|expected/i,
      );
      expect(job.failedReason).not.toMatch(/\bat \S+:\d+/); // a reason, not a stack
      // Not retried: a payload that can never be valid fails on its first attempt.
      expect(job.attemptsMade, `${j.queue} ${JSON.stringify(j.data)} attempts`).toBe(1);
      reasons.push(`${j.queue}: ${job.failedReason}`);
    }

    // Read raw: BullMQ's own getJob cannot parse this job either.
    await until(
      "the non-JSON job failed",
      async () => (await cl.r.zscore(`${QUEUE_PREFIX}:persist:failed`, garbage.id as string)) !== null,
      60_000,
    );
    const [reason, attempts] = await c.r.hmget(garbageKey, "failedReason", "atm");
    expect(reason).toMatch(/invalid persist payload: data is not JSON/);
    expect(attempts).toBe("1");
    reasons.push(`persist: ${reason}`);

    // Still running, still serving: a good write goes through the same process.
    expect(c.api.child.exitCode).toBeNull();
    const ok = await c.call("POST", "/v1/users/after-bad-jobs/todos", { text: "still works" });
    expect(ok.status).toBe(201);
    expect((await fetch(`${c.base}/readyz`)).status).toBe(200);
    console.log(
      `malformed jobs: ${jobs.length + 1} failed with a reason, e.g.\n  ${[...reasons.slice(0, 3), reasons.at(-1)].join("\n  ")}`,
    );
  });
});
