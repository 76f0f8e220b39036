import { afterEach, describe, expect, it, onTestFailed } from "vitest";
import { type Cluster, startCluster } from "../support/cluster.js";
import { type Acked, expectEmbedded, expectExactlyOnce } from "../support/exactly-once.js";
import { sleep, until } from "../support/procs.js";

/**
 * Redis killed (SIGKILL) during a write burst and started again on its AOF: while it is down
 * the API answers 503 at once (never a hang, never a 500), /readyz names it; afterwards the
 * API and every worker process carry on by themselves, and every acknowledged write is there.
 */
const U = "redis-user";

describe("fault: Redis killed and restarted during a burst", { timeout: 300_000 }, () => {
  let c: Cluster | undefined;
  afterEach(async () => {
    await c?.cleanup();
    c = undefined;
  });

  it("503 while down, recovers without restarts, acknowledged writes all present once", async () => {
    c = await startCluster();
    const cl = c;
    onTestFailed(() => console.log(cl.logs()));
    const goal = await c.call("POST", `/v1/users/${U}/goals`, { title: "Survive Redis" });
    expect(goal.status).toBe(201);
    const acked: Acked = { todos: [], goal: { id: goal.body.goal_id, notes: [] }, feedback: [] };
    const statuses: Record<number, number> = {};
    const count = (s: number) => {
      statuses[s] = (statuses[s] ?? 0) + 1;
    };

    // A burst of concurrent writers runs through the kill and the restart.
    let stop = false;
    let n = 0;
    const writers = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const i = n++;
        const todo = i % 2 === 0;
        const r = todo
          ? await cl.call("POST", `/v1/users/${U}/todos?wait=false`, { text: `burst ${i}` })
          : await cl.call("POST", `/v1/users/${U}/goals/${acked.goal?.id}/progress?wait=false`, {
              note: `burst step ${i}`,
            });
        count(r.status);
        expect([202, 503], `burst write ${i}: ${JSON.stringify(r.body)}`).toContain(r.status);
        if (r.status === 202) {
          if (todo) acked.todos.push(`burst ${i}`);
          else acked.goal?.notes.push(`burst step ${i}`);
        }
        await sleep(20);
      }
    });
    await until("40 writes acknowledged", async () => statuses[202] !== undefined && statuses[202] >= 40);

    await c.redis.stop("SIGKILL");
    // While down: every request is answered, with 503 and a stable code, not a stack trace.
    for (let i = 0; i < 15; i++) {
      const r = await c.call("POST", `/v1/users/${U}/todos?wait=false`, { text: `down ${i}` });
      count(r.status);
      expect(r.status, `write while Redis is down: ${JSON.stringify(r.body)}`).toBe(503);
      expect(r.body.error.code).toBe("unavailable");
      expect(JSON.stringify(r.body)).not.toMatch(/\.(ts|js):\d+/);
      const read = await c.call("GET", `/v1/users/${U}/context`);
      expect(read.status).toBe(503);
    }
    const ready = await fetch(`${c.base}/readyz`);
    expect(ready.status).toBe(503);
    expect((await ready.json()).down).toContain("redis");
    const workerReady = await fetch(`http://127.0.0.1:${c.workers[0]?.opsPort}/readyz`);
    expect(workerReady.status).toBe(503);

    await c.redis.start();
    // Recovers by itself: no process is restarted from here on.
    const first = await until("a write with wait after the restart", async () => {
      const r = await cl.call("POST", `/v1/users/${U}/todos`, { text: "after restart" });
      count(r.status);
      expect([201, 503]).toContain(r.status);
      return r.status === 201 ? r : undefined;
    });
    expect(first.body.text).toBe("after restart");
    acked.todos.push("after restart");
    const ackedAtRestart = statuses[202] ?? 0;
    await until(
      "the burst going on after the restart",
      async () => (statuses[202] ?? 0) >= ackedAtRestart + 20,
    );
    stop = true;
    await Promise.all(writers);
    await until("ready again", async () => (await fetch(`${cl.base}/readyz`)).status === 200);

    // Every worker process takes persist and embed jobs again.
    const before = await Promise.all(
      c.workers.map(async (w) => [await cl.jobsDone(w, "persist"), await cl.jobsDone(w, "embed")]),
    );
    let m = 0;
    await until(
      "every worker completing persist and embed jobs after the restart",
      async () => {
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            const i = m++;
            const r = await cl.call("POST", `/v1/users/${U}/todos?wait=false`, { text: `after ${i}` });
            count(r.status);
            expect(r.status).toBe(202);
            acked.todos.push(`after ${i}`);
          }),
        );
        await sleep(300);
        const now = await Promise.all(
          cl.workers.map(async (w) => [await cl.jobsDone(w, "persist"), await cl.jobsDone(w, "embed")]),
        );
        return now.every((x, w) => x.every((v, q) => v > (before[w]?.[q] ?? 0)));
      },
      90_000,
    );
    for (const w of c.workers) expect(w.proc.child.exitCode).toBeNull();

    await c.drained(["persist", "embed"]);
    for (const q of ["persist", "embed"]) expect(await c.queue(q).getJobCountByTypes("failed"), q).toBe(0);
    await expectExactlyOnce(c, U, acked);
    await expectEmbedded(c, U);
    console.log(`redis restart: answers by status ${JSON.stringify(statuses)}`);
  });
});
