import { afterEach, describe, expect, it, onTestFailed } from "vitest";
import { type CallResult, type Cluster, readyz, startCluster, timedCall } from "../support/cluster.js";
import { type Acked, expectEmbedded, expectExactlyOnce } from "../support/exactly-once.js";
import { sleep, until } from "../support/procs.js";

/**
 * Redis killed (SIGKILL) during a write burst and started again on its AOF: while it is down
 * the API answers 503 at once (never a hang, never a 500), /readyz names it; afterwards the
 * API and every worker process carry on by themselves, and every acknowledged write is there.
 */
const U = "redis-user";
/** Generous: no dependency call may be waited on while Redis is down; the point is "no hang". */
const ANSWER_WITHIN_MS = 2000;
/** A stack frame, a source position or a path of this machine in an error answer. */
const LEAK =
  /\.(?:ts|js|mjs|cjs):\d+|\bat (?:async )?[\w$.<>[\]]+ \(|\bat (?:file:|node:|\/)|\/(?:work|home|tmp|usr)\/|node_modules|\b(?:src|workers|queues)\//;

/** A 503 that says which dependency is down, with a stable code and nothing internal. */
function expectUnavailable(r: CallResult, what: string): void {
  const shown = `${what}: ${JSON.stringify(r.body)}`;
  expect(r.status, shown).toBe(503);
  expect(Object.keys(r.body ?? {}), shown).toEqual(["error"]);
  expect(Object.keys(r.body.error).sort(), shown).toEqual(["code", "message"]);
  expect(r.body.error.code, shown).toBe("unavailable");
  expect(r.body.error.message, shown).toBe("redis is unavailable, retry later");
  expect(JSON.stringify(r.body), shown).not.toMatch(LEAK);
}

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
    /** Every 503 answer, with how long it took (burst and probes); checked after the outage. */
    const refused: { what: string; r: CallResult & { ms: number } }[] = [];
    const on503 = (r: CallResult & { ms: number }, what: string) => {
      if (r.status === 503) refused.push({ what, r });
    };

    // A burst of concurrent writers (to-dos, goal progress, feedback) runs through the kill and the restart.
    let stop = false;
    let n = 0;
    const writers = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const i = n++;
        const kind = i % 3;
        const r =
          kind === 0
            ? await timedCall(cl, "POST", `/v1/users/${U}/todos?wait=false`, { text: `burst ${i}` })
            : kind === 1
              ? await timedCall(cl, "POST", `/v1/users/${U}/goals/${acked.goal?.id}/progress?wait=false`, {
                  note: `burst step ${i}`,
                })
              : await timedCall(cl, "POST", `/v1/users/${U}/feedback?wait=false`, {
                  interaction_id: `redis-fb-${i}`,
                  rating: 4,
                  comments: `clear answer number ${i}`,
                });
        count(r.status);
        expect([202, 503], `burst write ${i}: ${JSON.stringify(r.body)}`).toContain(r.status);
        on503(r, `burst write ${i}`);
        if (r.status === 202) {
          if (kind === 0) acked.todos.push(`burst ${i}`);
          else if (kind === 1) acked.goal?.notes.push(`burst step ${i}`);
          else acked.feedback.push(`redis-fb-${i}`);
        }
        await sleep(20);
      }
    });
    await until("40 writes acknowledged", async () => statuses[202] !== undefined && statuses[202] >= 40);

    await c.redis.stop("SIGKILL");
    // While down: every request is answered at once, with 503 and a stable code, not a stack trace.
    const probes: number[] = [];
    for (let i = 0; i < 15; i++) {
      const w = await timedCall(c, "POST", `/v1/users/${U}/todos?wait=false`, { text: `down ${i}` });
      count(w.status);
      expectUnavailable(w, `write ${i} while Redis is down`);
      on503(w, `write ${i} while Redis is down`);
      const read = await timedCall(c, "GET", `/v1/users/${U}/context`);
      expectUnavailable(read, `read ${i} while Redis is down`);
      on503(read, `read ${i} while Redis is down`);
      probes.push(w.ms, read.ms);
    }
    // The API and every worker process notice (each has its own connections); asked all at once.
    const [ready, ...workersReady] = await Promise.all([readyz(c), ...c.workers.map((w) => readyz(cl, w))]);
    expect(ready?.status).toBe(503);
    expect(ready?.body.down).toContain("redis");
    expect(workersReady.length).toBe(c.workers.length);
    for (const [k, wr] of workersReady.entries()) {
      expect(wr.status, `worker ${k} /readyz: ${JSON.stringify(wr.body)}`).toBe(503);
      expect(wr.body.down, `worker ${k} /readyz`).toContain("redis");
      expect(wr.body.checks.redis.status, `worker ${k} /readyz`).toBe("down");
    }

    await c.redis.start();
    // Recovers by itself: no process is restarted from here on.
    const first = await until("a write with wait after the restart", async () => {
      const r = await timedCall(cl, "POST", `/v1/users/${U}/todos`, { text: "after restart" });
      count(r.status);
      expect([201, 503]).toContain(r.status);
      on503(r, "write with wait around the restart");
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
    await until("ready again", async () => (await readyz(cl)).status === 200);

    // Every 503 (probes and burst alike): the same clean body, and no hang (within the bound).
    expect(probes.length).toBe(30);
    expect(refused.length).toBeGreaterThanOrEqual(30);
    for (const { what, r } of refused) {
      expectUnavailable(r, what);
      expect(r.ms, `${what} answered 503 after ${r.ms.toFixed(0)} ms`).toBeLessThan(ANSWER_WITHIN_MS);
    }
    const slowest = refused.reduce((a, b) => (b.r.ms > a.r.ms ? b : a));

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
    expect(acked.feedback.length, "feedback acknowledged in the burst").toBeGreaterThan(0);
    await expectExactlyOnce(c, U, acked);
    await expectEmbedded(c, U);
    const sorted = refused.map((x) => x.r.ms).sort((a, b) => a - b);
    console.log(
      `redis restart: answers by status ${JSON.stringify(statuses)}; acknowledged ${acked.todos.length} to-dos, ` +
        `${acked.goal?.notes.length} progress entries, ${acked.feedback.length} feedback; ` +
        `${refused.length} answers 503, p50 ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} ms, ` +
        `max ${slowest.r.ms.toFixed(1)} ms (${slowest.what}); probes while down max ${Math.max(...probes).toFixed(1)} ms`,
    );
  });
});
