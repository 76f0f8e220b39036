import { afterEach, describe, expect, it, onTestFailed } from "vitest";
import { DEFAULT_JOB_OPTIONS } from "../../queues/options.js";
import { type Cluster, queueEvents, readyz, startCluster } from "../support/cluster.js";
import { type Acked, expectEmbedded, expectExactlyOnce } from "../support/exactly-once.js";
import { sleep, until } from "../support/procs.js";

/**
 * The DynamoDB server killed during a write burst: writes are still accepted (queued), warm
 * reads still answer from Redis, persist jobs retry with growing backoff, /readyz names
 * DynamoDB, and once it is back everything lands exactly once.
 */
const U = "dyn-user";
const WRITERS = 5;

describe("fault: DynamoDB stopped during a burst", { timeout: 300_000 }, () => {
  let c: Cluster | undefined;
  afterEach(async () => {
    await c?.cleanup();
    c = undefined;
  });

  it("retries with backoff, /readyz says which dependency is down, everything lands after it returns", async () => {
    c = await startCluster();
    const cl = c;
    onTestFailed(() => console.log(cl.logs()));
    const goal = await c.call("POST", `/v1/users/${U}/goals`, { title: "Survive DynamoDB" });
    expect(goal.status).toBe(201);
    const acked: Acked = { todos: [], goal: { id: goal.body.goal_id, notes: [] }, feedback: [] };

    const write = async (i: number) => {
      const kind = i % 3;
      const r =
        kind === 0
          ? await cl.call("POST", `/v1/users/${U}/todos?wait=false`, { text: `dyn todo ${i}` })
          : kind === 1
            ? await cl.call("POST", `/v1/users/${U}/goals/${acked.goal?.id}/progress?wait=false`, {
                note: `dyn step ${i}`,
              })
            : await cl.call("POST", `/v1/users/${U}/feedback?wait=false`, {
                interaction_id: `dyn-fb-${i}`,
                rating: 2,
                comments: `too long, answer ${i}`,
              });
      // DynamoDB is not on the ingress path: writes are accepted whether it is up or not.
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      if (kind === 0) acked.todos.push(`dyn todo ${i}`);
      else if (kind === 1) acked.goal?.notes.push(`dyn step ${i}`);
      else acked.feedback.push(`dyn-fb-${i}`);
    };

    // 5 concurrent writers (to-dos, goal progress, feedback): 30 writes before, 60 while dynalite is dead, 30 after.
    let next = 0;
    const burst = (upTo: number) =>
      Promise.all(
        Array.from({ length: WRITERS }, async () => {
          while (next < upTo) await write(next++);
        }),
      );
    await burst(30);
    await c.dynamo.stop();
    await burst(90);

    // Persist jobs now fail and wait for their retry with backoff.
    const retrying = await until(
      "persist jobs retrying with backoff",
      async () => {
        const delayed = await cl.queue("persist").getDelayed();
        return delayed.some((j) => j.attemptsMade >= 2) ? delayed : undefined;
      },
      90_000,
    );
    const reasons = new Set(retrying.map((j) => j.failedReason));
    expect([...reasons].join(" | ")).toMatch(/ECONNREFUSED|connect|socket|network/i);

    // The API and every worker process say which dependency is down, and only that one.
    const [ready, ...workersReady] = await Promise.all([readyz(c), ...c.workers.map((w) => readyz(cl, w))]);
    expect(ready?.status).toBe(503);
    expect(ready?.body.down).toEqual(["dynamodb"]);
    expect(ready?.body.checks.redis.status).toBe("up");
    expect(workersReady.length).toBe(c.workers.length);
    for (const [k, wr] of workersReady.entries()) {
      expect(wr.status, `worker ${k} /readyz: ${JSON.stringify(wr.body)}`).toBe(503);
      expect(wr.body.down, `worker ${k} /readyz`).toEqual(["dynamodb"]);
      expect(wr.body.checks.redis.status, `worker ${k} /readyz`).toBe("up");
    }
    // A warm user's context still answers from Redis.
    const ctx = await c.call("GET", `/v1/users/${U}/context`);
    expect(ctx.status).toBe(200);

    await sleep(1000);
    await c.dynamo.start();
    await until("ready again", async () => (await readyz(cl)).status === 200);
    await burst(120);
    expect(next).toBe(120);

    await c.drained(["persist", "embed"], 180_000);
    for (const q of ["persist", "embed"]) expect(await c.queue(q).getJobCountByTypes("failed"), q).toBe(0);
    const done = await c.queue("persist").getCompleted(0, 1000);
    const retried = done.filter((j) => j.attemptsMade > 1);
    const maxAttempts = Math.max(...done.map((j) => j.attemptsMade));
    expect(maxAttempts).toBeGreaterThanOrEqual(3);

    // Every retried job carries exponential backoff from the queue defaults (queues/options.ts).
    expect(retried.length).toBeGreaterThan(0);
    const base = DEFAULT_JOB_OPTIONS.backoff as { type: string; delay: number };
    expect(base.type).toBe("exponential");
    for (const j of retried)
      expect(j.opts.backoff, `job ${j.id} backoff`).toMatchObject({ type: "exponential", delay: base.delay });

    // Each attempt, from the queue's event stream (BullMQ's own record, not a timer of ours):
    // every failed attempt is followed by a "delayed" entry whose due time minus the entry's
    // time is the backoff the worker scheduled, base x 2^(failures - 1) = 500, 1000, 2000 ms...;
    // the next attempt ("active") does not start before that due time.
    const events = await queueEvents(c, "persist");
    const byJob = new Map<string, typeof events>();
    for (const e of events) if (e.jobId) byJob.set(e.jobId, [...(byJob.get(e.jobId) ?? []), e]);
    const histories = retried.map((j) => {
      const evs = byJob.get(j.id as string) ?? [];
      const delayed = evs.filter((e) => e.event === "delayed");
      const starts = evs.filter((e) => e.event === "active");
      return {
        id: j.id as string,
        attempts: j.attemptsMade,
        delayed,
        starts,
        /** Backoff as scheduled: due time minus the time of the failure. */
        scheduled: delayed.map((d) => Number(d.fields.delay) - d.at),
        /** Real gap: the failure to the next attempt's start. */
        waited: delayed.map((d, k) => (starts[k + 1]?.at ?? Number.NaN) - d.at),
      };
    });
    for (const h of histories) {
      const what = `job ${h.id} (${h.attempts} attempts): ${JSON.stringify(h.scheduled)} scheduled, ${JSON.stringify(h.waited)} waited`;
      expect(h.starts.length, what).toBe(h.attempts);
      expect(h.delayed.length, what).toBe(h.attempts - 1);
      h.delayed.forEach((d, k) => {
        const want = base.delay * 2 ** k;
        // Scheduled by the worker just before the entry was written: at most the backoff, a little less.
        expect(h.scheduled[k], what).toBeLessThanOrEqual(want + 5);
        expect(h.scheduled[k], what).toBeGreaterThan(want / 2);
        if (k > 0) expect(h.scheduled[k], what).toBeGreaterThan(h.scheduled[k - 1] as number);
        // Not retried before its due time (5 ms: the entry times are Redis's clock, due times the worker's).
        expect(h.starts[k + 1]?.at, what).toBeGreaterThanOrEqual(Number(d.fields.delay) - 5);
      });
    }
    const long = histories.filter((h) => h.attempts >= 3);
    expect(long.length, "jobs with 3 or more attempts").toBeGreaterThan(0);
    const growing = long.filter((h) => h.waited.every((w, k) => k === 0 || w > (h.waited[k - 1] as number)));
    expect(growing.length, "jobs whose real gaps between attempts grow").toBeGreaterThan(0);
    await expectExactlyOnce(c, U, acked);
    await expectEmbedded(c, U);
    const perAttempts: Record<number, number> = {};
    for (const j of done) perAttempts[j.attemptsMade] = (perAttempts[j.attemptsMade] ?? 0) + 1;
    const ex = long.find((h) => h.attempts === maxAttempts) ?? long[0];
    console.log(
      `dynamodb stop: ${next} writes acknowledged by ${WRITERS} writers, ${retrying.length} jobs waiting for a retry during the outage, ` +
        `completed persist jobs by attempts ${JSON.stringify(perAttempts)}, up to ${maxAttempts} attempts for one job; ` +
        `${long.length} jobs with >= 3 attempts, ${growing.length} of them with strictly growing real gaps; ` +
        `e.g. job ${ex?.id}: backoff scheduled ${JSON.stringify(ex?.scheduled)} ms, waited ${JSON.stringify(ex?.waited)} ms`,
    );
  });
});
