import type { Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CadencePayload } from "../queues/cadence.js";
import { runFanout, runTick } from "../src/cadence/fanout.js";
import type { CadenceServices } from "../src/cadence/services.js";
import { startTestSystem, type TestSystem } from "./support/system.js";

/** The system's clock: ticks and fan-outs read it, so a test can walk through a whole day. */
const clock = { now: new Date("2025-01-14T12:00:00Z") };
const SPREAD_MS = 1_800_000;

const USERS: Record<string, string | undefined> = {
  "paris-1": "Europe/Paris",
  "paris-2": "Europe/Paris",
  "paris-3": "Europe/Paris",
  "paris-4": "Europe/Paris",
  "paris-5": "Europe/Paris",
  "ny-1": "America/New_York",
  "kolkata-1": "Asia/Kolkata",
  "kathmandu-1": "Asia/Kathmandu",
  "no-zone": undefined,
};

describe("cadence fan-out: per-timezone ticks, bounded batches, spread, idempotent", () => {
  let t: TestSystem;
  let c: CadenceServices;
  const handled = new Set<string>();
  const batches: { tz: string; users: number }[] = [];

  /** Runs every fan-out job queued so far, as the cadence worker would (invoked directly). */
  async function drain(): Promise<void> {
    for (;;) {
      const jobs = (await c.queues.cadence.getJobs(["waiting", "delayed"])) as Job<CadencePayload>[];
      const todo = jobs.filter((j) => j.id && !handled.has(j.id) && j.data.kind === "fanout");
      if (!todo.length) return;
      for (const j of todo) {
        handled.add(j.id as string);
        if (j.data.kind !== "fanout") continue;
        const r = await runFanout(c.fanout, j.data);
        batches.push({ tz: j.data.tz, users: r.users ?? 0 });
      }
    }
  }
  async function tickAt(iso: string, explicit = true) {
    clock.now = new Date(iso);
    const r = await runTick(c.fanout, clock.now, explicit);
    await drain();
    return r;
  }
  const perUser = async () => {
    const [n, d] = await Promise.all([
      c.queues.summarize.getJobs(["waiting", "delayed"]),
      c.queues.digest.getJobs(["waiting", "delayed"]),
    ]);
    return { nightly: n, digest: d };
  };

  beforeAll(async () => {
    t = await startTestSystem({
      // Only persist runs: fan-outs are driven by the test, per-user jobs stay queued for inspection.
      workers: ["persist"],
      now: () => clock.now,
      env: { CADENCE_SCHEDULES: "off", CADENCE_BATCH: "2", CADENCE_SPREAD_SECONDS: String(SPREAD_MS / 1000) },
    });
    c = t.system.deps.cadence as CadenceServices;
    for (const [user, tz] of Object.entries(USERS)) {
      const r = await t.api(
        "PUT",
        `/v1/users/${user}/profile`,
        tz ? { name: user, timezone: tz } : { name: user },
      );
      expect(r.status).toBe(200);
    }
  });
  afterAll(async () => t?.stop());

  it("indexes every user by profile timezone, UTC when unknown", async () => {
    expect(await c.index.zones()).toEqual([
      "America/New_York",
      "Asia/Kathmandu",
      "Asia/Kolkata",
      "Europe/Paris",
      "UTC",
    ]);
    expect(await c.index.zoneOfUser("no-zone")).toBe("UTC");
    expect(await c.index.size("Europe/Paris")).toBe(5);
  });

  it("over one UTC day, each user gets one nightly (03:30 local) and one digest (07:00 local)", async () => {
    const fired: Record<string, string[]> = {};
    for (let m = 0; m < 24 * 60; m += 15) {
      const at = new Date(Date.parse("2025-01-15T00:00:00Z") + m * 60_000).toISOString();
      const r = await tickAt(at);
      if (r.fanouts) fired[at] = batches.slice(-(r.fanouts ?? 0)).map((b) => b.tz);
    }
    const { nightly, digest } = await perUser();
    const byUser = (jobs: Job[]) => Object.fromEntries(jobs.map((j) => [j.data.user_id, j.data.local_date]));
    expect(nightly).toHaveLength(Object.keys(USERS).length);
    expect(digest).toHaveLength(Object.keys(USERS).length);
    // 03:30 local: Paris (UTC+1) at 02:30Z; UTC at 03:30Z; New York (UTC-5) at 08:30Z;
    // Kolkata (UTC+5:30) at 22:00Z the day before... so its 2025-01-15 nightly came at 22:00Z
    // on the 14th, outside this day: today's tick at 22:00Z is already the 16th's.
    expect(byUser(nightly)).toMatchObject({
      "paris-1": "2025-01-15",
      "ny-1": "2025-01-15",
      "no-zone": "2025-01-15",
      "kolkata-1": "2025-01-16",
      "kathmandu-1": "2025-01-16",
    });
    // 07:00 local: Kolkata at 01:30Z, Kathmandu (UTC+5:45) at 01:15Z, Paris at 06:00Z, NY at 12:00Z.
    expect(byUser(digest)).toMatchObject({
      "kolkata-1": "2025-01-15",
      "kathmandu-1": "2025-01-15",
      "paris-1": "2025-01-15",
      "ny-1": "2025-01-15",
      "no-zone": "2025-01-15",
    });
    expect(Object.keys(fired).sort()).toEqual(
      [
        "2025-01-15T01:15:00.000Z",
        "2025-01-15T01:30:00.000Z",
        "2025-01-15T02:30:00.000Z",
        "2025-01-15T03:30:00.000Z",
        "2025-01-15T06:00:00.000Z",
        "2025-01-15T07:00:00.000Z",
        "2025-01-15T08:30:00.000Z",
        "2025-01-15T12:00:00.000Z",
        "2025-01-15T21:45:00.000Z",
        "2025-01-15T22:00:00.000Z",
      ].sort(),
    );
  });

  it("fans out in bounded batches and spreads per-user jobs over the window", async () => {
    // CADENCE_BATCH=2: five Paris users are three batches per cadence, never more than two each.
    expect(Math.max(...batches.map((b) => b.users))).toBeLessThanOrEqual(2);
    expect(batches.filter((b) => b.tz === "Europe/Paris").map((b) => b.users)).toEqual([2, 2, 1, 2, 2, 1]);
    const { nightly } = await perUser();
    const paris = nightly.filter((j) => String(j.data.user_id).startsWith("paris"));
    // Fan-out ran at the window start (the test clock), so each delay is the user's offset.
    const delays = paris.map((j) => j.opts.delay ?? 0);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(SPREAD_MS);
    }
    expect(new Set(delays).size).toBe(paris.length);
    expect(paris.map((j) => j.id).sort()).toEqual(
      [1, 2, 3, 4, 5].map((i) => `nightly.paris-${i}.2025-01-15`),
    );
  });

  it("re-running a tick or a batch (a retry after a crash) queues nothing twice", async () => {
    const before = await perUser();
    const cadenceJobs = (await c.queues.cadence.getJobs(["waiting", "delayed"])).length;
    const r = await tickAt("2025-01-15T02:30:00Z");
    expect(r.fanouts).toBe(1); // Paris again: same deterministic fan-out id
    expect((await c.queues.cadence.getJobs(["waiting", "delayed"])).length).toBe(cadenceJobs);
    // Replay the first Paris batch by hand, twice: same per-user ids, same next-batch id.
    const p = {
      kind: "fanout" as const,
      cadence: "nightly" as const,
      tz: "Europe/Paris",
      local_date: "2025-01-15",
      window_start: Date.parse("2025-01-15T02:30:00Z"),
    };
    const a = await runFanout(c.fanout, p);
    const b = await runFanout(c.fanout, p);
    expect(a).toEqual(b);
    expect(a.next_after).toBe("paris-2");
    const after = await perUser();
    expect(after.nightly.length).toBe(before.nightly.length);
    expect(after.digest.length).toBe(before.digest.length);
    expect((await c.queues.cadence.getJobs(["waiting", "delayed"])).length).toBe(cadenceJobs);
  });

  it("a user added during the day is picked up by the next run", async () => {
    clock.now = new Date("2025-01-15T15:00:00Z");
    expect((await t.api("PUT", "/v1/users/paris-new/profile", { timezone: "Europe/Paris" })).status).toBe(
      200,
    );
    await tickAt("2025-01-16T02:30:00Z");
    const { nightly } = await perUser();
    const ids = nightly.map((j) => j.id);
    expect(ids).toContain("nightly.paris-new.2025-01-16");
    expect(ids).toContain("nightly.paris-1.2025-01-16");
    expect(ids).not.toContain("nightly.paris-new.2025-01-15");
  });

  it("a user whose timezone changes moves bucket", async () => {
    expect(
      (await t.api("PATCH", "/v1/users/paris-new/profile", { timezone: "America/New_York" })).status,
    ).toBe(200);
    expect(await c.index.zoneOfUser("paris-new")).toBe("America/New_York");
    expect(await c.index.size("Europe/Paris")).toBe(5);
    expect(await c.index.size("America/New_York")).toBe(2);
  });

  it("scheduled ticks catch up the slots missed during an outage (bounded), then only new ones", async () => {
    const first = await tickAt("2025-01-16T10:00:00Z", false);
    expect(first.slots).toBeGreaterThanOrEqual(1);
    // Workers down for an hour: the next scheduled tick covers the four missed quarter hours.
    const later = await tickAt("2025-01-16T11:00:00Z", false);
    expect(later.slots).toBe(4);
    const again = await tickAt("2025-01-16T11:00:00Z", false);
    expect(again.slots).toBe(0);
  });
});
