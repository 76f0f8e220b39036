import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCHEDULES } from "../queues/schedules.js";
import { startSystem } from "../src/app/system.js";
import { reconcileSchedules } from "../src/cadence/schedulers.js";
import {
  events,
  type GoogleHarness,
  PUBLIC_BASE,
  startGoogle,
  statusUntil,
  until,
} from "./support/google.js";

const DAY = 86_400_000;
const HOUR = 3_600_000;

describe("push channels, webhook, dedup, renewal, poll and eviction", () => {
  let h: GoogleHarness;
  const U = "pia";
  const queue = () =>
    h.t.system.deps.calendar?.queue.queue as NonNullable<typeof h.t.system.deps.calendar>["queue"]["queue"];
  const syncJobs = async (user: string) =>
    (await queue().getJobs(["waiting", "active", "delayed", "completed", "failed"], 0, -1)).filter(
      (j) => j?.data.kind === "sync" && j.data.user_id === user,
    ).length;
  const channel = () => {
    const [c] = h.google.activeChannels(U);
    if (!c) throw new Error("no active channel");
    return c;
  };
  const soon = (days: number) => new Date(h.clock.now().getTime() + days * DAY).toISOString();
  const listsOf = (user: string) => h.google.stats.lists.filter((l) => l.account === user).length;

  beforeAll(async () => {
    h = await startGoogle();
    h.google.put(U, { id: "a", summary: "Planning", start: { dateTime: soon(1) } });
    await h.connect(U, U);
    await statusUntil(
      h,
      U,
      "sync and channel",
      (s) => s.last_sync_status === "ok" && s.push.status === "active",
    );
  });
  afterAll(async () => h?.stop());

  it("opens one events.watch channel per user with a random secret token, renewal due a day before expiry", async () => {
    expect(h.google.stats.watches).toHaveLength(1);
    const w = h.google.stats.watches[0];
    expect(w?.address).toBe(`${PUBLIC_BASE}/v1/webhooks/google/calendar`);
    expect(w?.token.length).toBeGreaterThanOrEqual(40);
    expect(w?.ttl).toBe(String(7 * 24 * 3600));
    const st = (await h.t.api("GET", `/v1/users/${U}/google`)).body;
    expect(Date.parse(st.push.channel_expires_at)).toBe(channel().expiration);
    expect(Date.parse(st.push.next_renewal_at)).toBe(channel().expiration - DAY);
    // The token is kept only as a hash.
    const conn = await h.t.system.deps.calendar?.store.get(U);
    expect(JSON.stringify(conn)).not.toContain(channel().token);
  });

  it("webhook: a wrong token is refused, unknown channels and `sync` messages queue nothing, `exists` syncs", async () => {
    const jobs = await syncJobs(U);
    expect(await h.notify(channel().id, "exists", { token: "not-the-token" })).toBe(403);
    const noId = await h.t.api("POST", "/v1/webhooks/google/calendar", undefined, { token: null });
    expect(noId.status).toBe(400);
    const unknown = await fetch(`${h.t.url}/v1/webhooks/google/calendar`, {
      method: "POST",
      headers: {
        "X-Goog-Channel-ID": "gc-unknown",
        "X-Goog-Channel-Token": "x",
        "X-Goog-Resource-State": "exists",
      },
    });
    expect(unknown.status).toBe(204);
    expect(await h.notify(channel().id, "sync")).toBe(204);
    expect(await syncJobs(U)).toBe(jobs);

    h.google.put(U, { id: "b", summary: "Retro", start: { dateTime: soon(2) } });
    expect(await h.notify(channel().id, "exists")).toBe(204);
    await until("pushed change", async () => (await events(h, U)).some((e) => e.summary === "Retro"));
    const st = await statusUntil(h, U, "notification recorded", (s) => s.last_notification_at !== null);
    expect(st.last_sync_status).toBe("ok");
  });

  it("a burst of notifications while a sync runs queues exactly one more sync", async () => {
    let release = () => {};
    h.google.gate = new Promise<void>((r) => {
      release = r;
    });
    h.google.stats.maxInFlight = 0;
    const before = listsOf(U);
    h.google.put(U, { id: "c", summary: "Demo", start: { dateTime: soon(3) } });
    expect(await h.notify(channel().id, "exists")).toBe(204);
    await until("first sync in flight", async () => (h.google.stats.inFlight.get(U) ?? 0) === 1);
    h.google.put(U, { id: "d", summary: "Review", start: { dateTime: soon(4) } });
    const codes = await Promise.all(Array.from({ length: 20 }, () => h.notify(channel().id, "exists")));
    expect(codes.every((c) => c === 204)).toBe(true);
    h.google.gate = undefined;
    release();
    await until("both changes", async () => (await events(h, U)).some((e) => e.summary === "Review"));
    await until(
      "queue drained",
      async () => (await queue().getJobCounts("waiting", "active", "delayed")).active === 0,
    );
    expect(listsOf(U) - before).toBe(2); // the running sync, then one for the whole burst
    expect(h.google.stats.maxInFlight).toBe(1);
  });

  it("never runs two syncs of one user at once, even across worker processes", async () => {
    const second = await startSystem(
      { ...h.t.config, DYNAMODB_ENDPOINT: h.t.system.dynamoEndpoint as string, PORT: 0 },
      { api: false, workers: ["calendar-sync"], now: h.clock.now, log: pino({ level: "silent" }) },
    );
    try {
      let release = () => {};
      h.google.gate = new Promise<void>((r) => {
        release = r;
      });
      h.google.stats.maxInFlight = 0;
      // Two jobs that bypass the per-user deduplication (as after a crash or a manual retry).
      const a = await queue().add("sync", { kind: "sync", user_id: U, reason: "manual" });
      const b = await queue().add("sync", { kind: "sync", user_id: U, reason: "manual" });
      await until("one in flight", async () => (h.google.stats.inFlight.get(U) ?? 0) === 1);
      // The other one finds the user's lock taken and goes back to delayed.
      await until("other delayed", async () => {
        const states = await Promise.all([a, b].map((j) => queue().getJobState(j.id as string)));
        return states.includes("delayed");
      });
      h.google.gate = undefined;
      release();
      await until("both done", async () => {
        const states = await Promise.all([a, b].map((j) => queue().getJobState(j.id as string)));
        return states.every((s) => s === "completed");
      });
      expect(h.google.stats.maxInFlight).toBe(1);
    } finally {
      await second.close();
    }
  });

  it("the scheduler's tick renews a channel before it expires and stops the old one", async () => {
    const old = channel();
    h.clock.advance(old.expiration - h.clock.now().getTime() - DAY + 60_000);
    await h.t.system.deps.calendar?.queue.tick();
    await until("renewed", async () => h.google.activeChannels(U).some((c) => c.id !== old.id));
    await until("old stopped", async () => h.google.stats.stops.some((s) => s.id === old.id));
    expect(h.google.activeChannels(U)).toHaveLength(1);
    const st = await statusUntil(
      h,
      U,
      "new expiry",
      (s) => Date.parse(s.push.channel_expires_at) === channel().expiration,
    );
    expect(Date.parse(st.next_check_at)).toBeGreaterThan(h.clock.now().getTime());
    // A notification on the replaced channel no longer syncs.
    expect(await h.t.system.deps.calendar?.store.getChannel(old.id)).toBeUndefined();
  });

  it("a notification on a replaced channel that could not be stopped gets it stopped", async () => {
    const old = channel();
    h.google.failStops = true;
    h.clock.advance(old.expiration - h.clock.now().getTime() - DAY + 60_000);
    await h.t.system.deps.calendar?.queue.tick();
    await until("renewed", async () => h.google.activeChannels(U).some((c) => c.id !== old.id));
    await until("stale recorded", async () =>
      (await h.t.system.deps.calendar?.store.get(U))?.stale_channels?.some(
        (c) => c.id === old.id && c.resource_id,
      ),
    );
    h.google.failStops = false;
    expect(h.google.channels.get(old.id)?.stopped).toBe(false);
    expect(await h.notify(old.id, "exists")).toBe(204);
    await until("stale channel stopped", async () => h.google.channels.get(old.id)?.stopped === true);
    await until(
      "forgotten",
      async () => !(await h.t.system.deps.calendar?.store.get(U))?.stale_channels?.length,
    );
  });

  it("polls hourly when push is missing; a user with healthy push and a recent sync is not polled", async () => {
    h.google.failWatches = true;
    await h.connect("quinn", "quinn");
    const st = await statusUntil(
      h,
      "quinn",
      "first sync",
      (s) => s.last_sync_status === "ok" && s.errors.length > 0,
    );
    expect(st.push.status).toBe("missing");
    expect(st.errors.at(-1)).toMatchObject({ code: "watch_failed" });
    const quinn = listsOf("quinn");
    const pia = listsOf(U);
    h.clock.advance(61 * 60_000);
    // pia synced just now (push healthy): bring its last sync forward so only quinn is quiet.
    h.google.put(U, { id: "e", summary: "Sync", start: { dateTime: soon(1) } });
    await h.notify(channel().id, "exists");
    await until("pia synced", async () => listsOf(U) === pia + 1);
    await h.t.system.deps.calendar?.due.set(U, h.clock.now().getTime());
    await h.t.system.deps.calendar?.queue.tick();
    await until("quinn polled", async () => listsOf("quinn") === quinn + 1);
    await until("pia rescheduled", async () => {
      const next = await h.t.system.deps.calendar?.due.get(U);
      return next !== undefined && next > h.clock.now().getTime();
    });
    expect(listsOf(U)).toBe(pia + 1);
    h.google.failWatches = false;
  });

  it("evicts past events from Redis on the sweep; DynamoDB keeps them", async () => {
    const past = await h.t.api("POST", `/v1/users/${U}/events`, {
      summary: "Last week",
      start: new Date(h.clock.now().getTime() - 7 * DAY).toISOString(),
      end: new Date(h.clock.now().getTime() - 7 * DAY + HOUR).toISOString(),
    });
    const recent = await h.t.api("POST", `/v1/users/${U}/events`, {
      summary: "An hour ago",
      start: new Date(h.clock.now().getTime() - 2 * HOUR).toISOString(),
      end: new Date(h.clock.now().getTime() - HOUR).toISOString(),
    });
    expect((await events(h, U)).map((e) => e.summary)).toEqual(
      expect.arrayContaining(["Last week", "An hour ago"]),
    );
    await h.t.system.deps.calendar?.queue.evict();
    await until("evicted", async () => !(await events(h, U)).some((e) => e.summary === "Last week"));
    expect((await events(h, U)).some((e) => e.summary === "An hour ago")).toBe(true);
    expect((await h.t.system.deps.store.get(U, "event", past.body.event_id))?.data.summary).toBe("Last week");
    // A range reaching back past the eviction horizon is read from DynamoDB.
    const from = new Date(h.clock.now().getTime() - 8 * DAY).toISOString();
    const history = await events(h, U, `?from=${encodeURIComponent(from)}`);
    expect(history.map((e) => e.summary)).toEqual(expect.arrayContaining(["Last week", "An hour ago"]));
    expect(history.some((e) => e.status === "cancelled")).toBe(false);
    expect(recent.status).toBe(201);
  });

  it("declares its schedulers in the central declaration; reconciling creates them on calendar-sync", async () => {
    const ids = SCHEDULES.filter((s) => s.queue === "calendar-sync").map((s) => s.id);
    expect(ids.sort()).toEqual(["sched.calendar-tick", "sched.event-evict"]);
    await reconcileSchedules(h.t.system.redis, h.t.config.QUEUE_PREFIX, SCHEDULES, ["calendar-sync"]);
    const got = (await queue().getJobSchedulers(0, -1)).map((s) => s.key).sort();
    expect(got).toEqual(["sched.calendar-tick", "sched.event-evict"]);
  });
});
