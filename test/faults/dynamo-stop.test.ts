import { afterEach, describe, expect, it, onTestFailed } from "vitest";
import { type Cluster, startCluster } from "../support/cluster.js";
import { type Acked, expectEmbedded, expectExactlyOnce } from "../support/exactly-once.js";
import { sleep, until } from "../support/procs.js";

/**
 * The DynamoDB server killed during a write burst: writes are still accepted (queued), warm
 * reads still answer from Redis, persist jobs retry with growing backoff, /readyz names
 * DynamoDB, and once it is back everything lands exactly once.
 */
const U = "dyn-user";

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

    let i = 0;
    for (; i < 30; i++) await write(i);
    await c.dynamo.stop();
    for (; i < 90; i++) await write(i);

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

    const ready = await fetch(`${c.base}/readyz`);
    expect(ready.status).toBe(503);
    const report = await ready.json();
    expect(report.down).toEqual(["dynamodb"]);
    expect(report.checks.redis.status).toBe("up");
    const workerReady = await fetch(`http://127.0.0.1:${c.workers[0]?.opsPort}/readyz`);
    expect(workerReady.status).toBe(503);
    expect((await workerReady.json()).down).toContain("dynamodb");
    // A warm user's context still answers from Redis.
    const ctx = await c.call("GET", `/v1/users/${U}/context`);
    expect(ctx.status).toBe(200);

    await sleep(1000);
    await c.dynamo.start();
    await until("ready again", async () => (await fetch(`${cl.base}/readyz`)).status === 200);
    for (; i < 120; i++) await write(i);

    await c.drained(["persist", "embed"], 180_000);
    for (const q of ["persist", "embed"]) expect(await c.queue(q).getJobCountByTypes("failed"), q).toBe(0);
    const done = await c.queue("persist").getCompleted(0, 1000);
    const maxAttempts = Math.max(...done.map((j) => j.attemptsMade));
    expect(maxAttempts).toBeGreaterThanOrEqual(3);
    await expectExactlyOnce(c, U, acked);
    await expectEmbedded(c, U);
    console.log(
      `dynamodb stop: ${i} writes acknowledged, ${retrying.length} jobs waiting for a retry during the outage, ` +
        `up to ${maxAttempts} attempts for one job`,
    );
  });
});
