import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docIdOf } from "../src/google/events.js";
import { events, type GoogleHarness, startGoogle, statusUntil } from "./support/google.js";

const DAY = 86_400_000;
const U = "ann";

describe("calendar-sync worker against the local Google protocol server", () => {
  let h: GoogleHarness;
  let t0: number;
  const at = (days: number, hour = 10) => {
    const d = new Date(t0 + days * DAY);
    d.setUTCHours(hour, 0, 0, 0);
    return d.toISOString();
  };
  const dateIn = (days: number) => new Date(t0 + days * DAY).toISOString().slice(0, 10);
  const id = (googleId: string) => docIdOf("primary", googleId);
  const doc = (googleId: string) => h.t.system.deps.store.get(U, "event", id(googleId));

  /** Runs one sync (the way a notification or poll would queue it) and waits for it to finish. */
  const syncNow = async () => {
    h.clock.advance(1000);
    const mark = h.clock.now().toISOString();
    await h.t.system.deps.calendar?.queue.sync(U, "manual");
    return statusUntil(h, U, "sync", (s) => s.last_sync_at === mark || s.status !== "connected");
  };

  beforeAll(async () => {
    h = await startGoogle({ pageSize: 2 });
    t0 = h.clock.now().getTime();
  });
  afterAll(async () => h?.stop());

  it("first sync: bounded window, singleEvents expansion, every page; manual events live alongside", async () => {
    const manual = await h.t.api("POST", `/v1/users/${U}/events`, { summary: "Dentist", start: at(1, 8) });
    expect(manual.status).toBe(201);
    h.google.put(U, {
      id: "e1",
      summary: "Standup",
      start: { dateTime: at(1) },
      end: { dateTime: at(1, 11) },
      attendees: [{ email: "bo@example.com" }],
    });
    h.google.put(U, { id: "e2", summary: "Offsite", start: { date: dateIn(3) }, end: { date: dateIn(4) } });
    h.google.put(U, {
      id: "rec",
      summary: "Run",
      start: { dateTime: at(2, 7) },
      end: { dateTime: at(2, 8) },
      recurrence: ["RRULE:FREQ=DAILY;COUNT=3"],
    });
    h.google.put(U, { id: "old", summary: "Long ago", start: { dateTime: at(-40) } });
    h.google.put(U, { id: "far", summary: "Far ahead", start: { dateTime: at(200) } });

    await h.connect(U, U);
    const st = await statusUntil(
      h,
      U,
      "first sync and channel",
      (s) => s.last_sync_status === "ok" && s.push.status === "active",
    );
    expect(st.last_sync_counts).toEqual({ upserted: 5, cancelled: 0, unchanged: 0 });

    const full = h.google.stats.lists.filter((l) => l.account === U);
    expect(full.map((l) => l.kind)).toEqual(["full", "full", "full"]); // 5 items, 2 per page
    expect(full[0]?.query.singleEvents).toBe("true");
    expect(Date.parse(full[0]?.query.timeMin as string)).toBe(t0 - 30 * DAY);
    expect(Date.parse(full[0]?.query.timeMax as string)).toBe(t0 + 180 * DAY);
    expect(full[1]?.query.pageToken).toBeTruthy();

    const list = await events(h, U);
    expect(list.map((e) => e.summary)).toEqual(["Dentist", "Standup", "Run", "Offsite", "Run", "Run"]);
    const standup = list.find((e) => e.summary === "Standup");
    expect(standup).toMatchObject({
      event_id: id("e1"),
      source: "google",
      calendar_id: "primary",
      google_event_id: "e1",
      start: at(1),
      end: at(1, 11),
      attendees: ["bo@example.com"],
    });
    expect(list.filter((e) => e.summary === "Run").every((e) => e.recurring_event_id === "rec")).toBe(true);
    expect(list.find((e) => e.summary === "Dentist")).toMatchObject({ source: "manual", version: 1 });

    const ctx = await h.t.api("GET", `/v1/users/${U}/context`);
    expect(ctx.body.sections.events.map((e: { summary: string }) => e.summary)).toEqual(
      list.map((e) => e.summary),
    );

    // Synced events are embedded like API writes: semantic search finds them once the embed job ran.
    let hits: { item?: { summary?: string } }[] = [];
    for (let i = 0; i < 100 && !hits.some((x) => x.item?.summary === "Offsite"); i++) {
      const r = await h.t.api("GET", `/v1/users/${U}/search?q=offsite&elements=event&k=3`);
      hits = r.body?.results ?? r.body?.hits ?? r.body?.items ?? [];
      if (!hits.some((x) => x.item?.summary === "Offsite")) await new Promise((res) => setTimeout(res, 200));
    }
    expect(hits.some((x) => x.item?.summary === "Offsite")).toBe(true);
  });

  it("incremental: a change and a cancellation arrive; a late, older version never reverts the newer one", async () => {
    const before = h.google.stats.lists.length;
    const v1 = h.google.account(U).events.get("e1");
    h.google.put(U, {
      id: "e1",
      summary: "Standup (moved)",
      start: { dateTime: at(1, 12) },
      end: { dateTime: at(1, 13) },
    });
    h.google.cancel(U, "e2");
    const st = await syncNow();
    expect(st.last_sync_counts).toEqual({ upserted: 1, cancelled: 1, unchanged: 0 });
    const calls = h.google.stats.lists.slice(before);
    expect(calls.map((l) => l.kind)).toEqual(["incremental"]);
    expect(calls[0]?.query.syncToken).toBeTruthy();
    expect(calls[0]?.query.timeMin).toBeUndefined();

    const list = await events(h, U);
    expect(list.map((e) => e.summary)).toEqual(["Dentist", "Standup (moved)", "Run", "Run", "Run"]);
    expect((await h.t.api("GET", `/v1/users/${U}/events/${id("e2")}`)).status).toBe(404);
    const cancelled = await doc("e2");
    expect(cancelled?.data).toMatchObject({ status: "cancelled", summary: "Offsite", source: "google" });

    // Google delivers the old version of e1 late (it was current before the move).
    h.google.deliverStale(U, v1 as NonNullable<typeof v1>);
    const again = await syncNow();
    expect(again.last_sync_counts).toEqual({ upserted: 0, cancelled: 0, unchanged: 1 });
    expect((await doc("e1"))?.data).toMatchObject({ summary: "Standup (moved)", start: at(1, 12) });
    expect((await events(h, U)).find((e) => e.event_id === id("e1"))?.summary).toBe("Standup (moved)");
    expect((await events(h, U)).find((e) => e.summary === "Dentist")?.version).toBe(1);
  });

  it("410 Gone: full resync that marks the events Google no longer has", async () => {
    h.google.forget(U, "e1"); // gone without a cancelled entry
    h.google.put(U, { id: "e3", summary: "Lunch", start: { dateTime: at(5, 12) } });
    h.google.expireSyncTokens(U);
    const before = h.google.stats.lists.length;
    const st = await syncNow();
    // The incremental call answered 410; then the whole window again (4 items, 2 per page).
    expect(h.google.stats.lists.slice(before).map((l) => l.kind)).toEqual(["incremental", "full", "full"]);
    expect(st.last_full_sync_at).toBe(st.last_sync_at);
    expect(st.last_sync_counts.cancelled).toBe(1);
    expect((await doc("e1"))?.data.status).toBe("cancelled");
    expect((await events(h, U)).map((e) => e.summary)).toEqual(["Dentist", "Run", "Run", "Run", "Lunch"]);

    const incremental = await syncNow(); // the new token works
    expect(incremental.last_full_sync_at).not.toBe(incremental.last_sync_at);
  });

  it("refreshes the access token ahead of its expiry, not before", async () => {
    const refreshes = h.google.stats.refreshes;
    h.clock.advance(40 * 60_000);
    await syncNow();
    expect(h.google.stats.refreshes).toBe(refreshes);
    h.clock.advance(16 * 60_000); // 56+ minutes into a 60-minute token: inside the 5-minute margin
    const st = await syncNow();
    expect(st.last_sync_status).toBe("ok");
    expect(h.google.stats.refreshes).toBe(refreshes + 1);
  });

  it("a revoked grant (invalid_grant) disconnects: visible in status, upkeep stopped, events kept", async () => {
    expect(h.google.activeChannels(U)).toHaveLength(1);
    h.google.revokeAccount(U);
    const st = await syncNow();
    expect(st).toMatchObject({
      status: "disconnected",
      disconnect_reason: "revoked",
      next_check_at: null,
      push: { status: "missing" },
    });
    expect(st.errors.at(-1)).toMatchObject({ code: "invalid_grant" });
    expect(await h.t.system.deps.calendar?.due.get(U)).toBeUndefined();
    expect((await events(h, U)).length).toBe(5);
    // The stored credentials are gone.
    const conn = await h.t.system.deps.calendar?.store.get(U);
    expect(conn?.refresh_token).toBeUndefined();
    expect(conn?.access_token).toBeUndefined();
    expect(conn?.channel).toBeUndefined();
  });
});
