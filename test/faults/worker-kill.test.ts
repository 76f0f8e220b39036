import { afterEach, describe, expect, it, onTestFailed } from "vitest";
import { type Cluster, QUEUE_PREFIX, startCluster } from "../support/cluster.js";
import { type Acked, expectEmbedded, expectExactlyOnce } from "../support/exactly-once.js";
import { sleep, until } from "../support/procs.js";

/**
 * SIGKILL of a worker process while it runs persist and embed jobs: the jobs it held are
 * stalled, a second worker process takes them over and completes them, and nothing is lost
 * or applied twice (to-dos, progress entries, feedback entries, versions, vectors).
 */
const U = "kill-user";

async function stalledEvents(c: Cluster, queue: string): Promise<number> {
  const entries = (await c.r.xrange(`${QUEUE_PREFIX}:${queue}:events`, "-", "+")) as [string, string[]][];
  return entries.filter(([, f]) => f[0] === "event" && f[1] === "stalled").length;
}

describe("fault: worker process killed mid-burst", { timeout: 300_000 }, () => {
  let c: Cluster | undefined;
  afterEach(async () => {
    await c?.cleanup();
    c = undefined;
  });

  it("stalled persist and embed jobs complete on another worker; nothing lost, nothing doubled", async () => {
    // One worker first, so every job active at the kill is the killed worker's. A wide embed
    // batch window keeps embed jobs active long enough to be caught mid-run.
    c = await startCluster({ workers: [["persist", "embed"]], env: { EMBED_BATCH_WINDOW_MS: "400" } });
    const cl = c;
    onTestFailed(() => console.log(cl.logs()));
    const goal = await c.call("POST", `/v1/users/${U}/goals`, { title: "Survive a worker crash" });
    expect(goal.status).toBe(201);
    const acked: Acked = { todos: [], goal: { id: goal.body.goal_id, notes: [] }, feedback: [] };

    const TOTAL = 150;
    let next = 0;
    const write = async (i: number) => {
      const kind = i % 3;
      const r =
        kind === 0
          ? await cl.call("POST", `/v1/users/${U}/todos?wait=false`, { text: `kill todo ${i}` })
          : kind === 1
            ? await cl.call("POST", `/v1/users/${U}/goals/${acked.goal?.id}/progress?wait=false`, {
                note: `kill step ${i}`,
              })
            : await cl.call("POST", `/v1/users/${U}/feedback?wait=false`, {
                interaction_id: `kill-fb-${i}`,
                rating: 5,
                comments: `helpful answer number ${i}`,
              });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      if (kind === 0) acked.todos.push(`kill todo ${i}`);
      else if (kind === 1) acked.goal?.notes.push(`kill step ${i}`);
      else acked.feedback.push(`kill-fb-${i}`);
    };
    const burst = Promise.all(
      Array.from({ length: 6 }, async () => {
        while (next < TOTAL) {
          await write(next++);
          await sleep(5);
        }
      }),
    );

    // Kill the only worker once it holds persist and embed jobs at the same time.
    const held = await until(
      "persist and embed jobs active together",
      async () => {
        if (next < 30) return false;
        const [p, e] = await Promise.all([cl.queue("persist").getActive(), cl.queue("embed").getActive()]);
        return p.length > 0 && e.length > 0 ? [...p, ...e].map((j) => `${j.queueName}/${j.id}`) : false;
      },
      90_000,
    );
    const [victim] = c.workers;
    await victim?.proc.kill("SIGKILL");
    const survivor = await c.startWorker(["persist", "embed"]);
    await burst;

    await c.drained(["persist", "embed"]);
    for (const q of ["persist", "embed"]) expect(await c.queue(q).getJobCountByTypes("failed"), q).toBe(0);
    // The jobs the dead worker held were detected as stalled and finished by the survivor.
    expect(await stalledEvents(c, "persist")).toBeGreaterThan(0);
    expect(await stalledEvents(c, "embed")).toBeGreaterThan(0);
    // Every job the dead worker held still exists and completed: completed jobs are kept for
    // an hour (removeOnComplete) in both queues. Embed deduplication (keepLastIfActive) never
    // removes the active job; a later add for the same item becomes a new job after it.
    expect(held.some((ref) => ref.startsWith("persist/"))).toBe(true);
    expect(held.some((ref) => ref.startsWith("embed/"))).toBe(true);
    for (const ref of held) {
      const [q, id] = ref.split("/") as [string, string];
      const job = await c.queue(q).getJob(id);
      expect(job, `${ref} kept`).toBeDefined();
      expect(await job?.getState(), ref).toBe("completed");
    }
    expect(await c.jobsDone(survivor, "persist")).toBeGreaterThan(0);
    expect(await c.jobsDone(survivor, "embed")).toBeGreaterThan(0);

    await expectExactlyOnce(c, U, acked);
    const vectors = await expectEmbedded(c, U);
    console.log(
      `worker kill: ${TOTAL} writes acknowledged, ${held.length} jobs held at the kill, ` +
        `${await stalledEvents(c, "persist")} persist + ${await stalledEvents(c, "embed")} embed stalled events, ${vectors} vectors`,
    );
  });
});
