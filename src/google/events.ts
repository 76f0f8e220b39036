import { createHash } from "node:crypto";
import { toEpochMs } from "../elements/common.js";
import { EventInput } from "../elements/event.js";
import type { StoredDoc } from "../elements/stored.js";
import { type DynamoStore, VersionConflict } from "../repositories/dynamo-store.js";
import type { HotStore } from "../repositories/redis-hot.js";
import { eventEndMs } from "../services/event-eviction.js";
import type { GoogleEvent } from "./client.js";

export const SOURCE = "google";
/** Fields a sync owns on a Google event: set from Google's version, removed when Google drops them. */
const OWNED = [
  "calendar_id",
  "summary",
  "description",
  "start",
  "end",
  "location",
  "attendees",
  "recurrence",
  "source",
  "last_modified",
  "google_event_id",
  "google_updated",
  "recurring_event_id",
  "status",
  "cancelled_at",
] as const;
const MAX_CONFLICTS = 20;

/** Stable document id for a Google event; never collides with the UUIDs of manual events. */
export const docIdOf = (calendarId: string, googleId: string) =>
  `gcal-${createHash("sha256").update(`${calendarId}\n${googleId}`).digest("hex").slice(0, 40)}`;

const cut = (s: string | null | undefined, n: number) => {
  const t = s?.trim();
  return t ? t.slice(0, n) : undefined;
};

/** Google's event → the events element (validated by its schema), or a reason it cannot be kept. */
export function fromGoogle(
  ev: GoogleEvent,
  calendarId: string,
): { ok: true; data: Record<string, unknown>; updated: number } | { ok: false; reason: string } {
  const start = ev.start?.dateTime ?? ev.start?.date;
  if (!ev.id || !start) return { ok: false, reason: "event without id or start" };
  let end = ev.end?.dateTime ?? ev.end?.date ?? undefined;
  if (end && toEpochMs(end) < toEpochMs(start)) end = undefined;
  const attendees = (ev.attendees ?? [])
    .map((a) => cut(a.email ?? a.displayName, 254))
    .filter((a): a is string => !!a)
    .slice(0, 100);
  const input = {
    calendar_id: cut(calendarId, 200),
    summary: cut(ev.summary, 500) ?? "(no title)",
    description: ev.description ? ev.description.slice(0, 4000) : undefined,
    start,
    end,
    location: cut(ev.location, 500),
    attendees: attendees.length ? attendees : undefined,
    recurrence: ev.recurrence?.length ? ev.recurrence.map((r) => r.slice(0, 500)).slice(0, 20) : undefined,
  };
  const parsed = EventInput.safeParse(input);
  if (!parsed.success)
    return { ok: false, reason: `not a valid event: ${parsed.error.issues[0]?.path.join(".")}` };
  const updated = ev.updated ? Date.parse(ev.updated) : Number.NaN;
  if (Number.isNaN(updated)) return { ok: false, reason: "event without a valid updated time" };
  const data: Record<string, unknown> = {
    ...parsed.data,
    source: SOURCE,
    last_modified: new Date(updated).toISOString(),
    google_event_id: ev.id,
    google_updated: new Date(updated).toISOString(),
    ...(ev.recurringEventId ? { recurring_event_id: ev.recurringEventId } : {}),
  };
  for (const k of Object.keys(data)) if (data[k] === undefined) delete data[k];
  return { ok: true, data, updated };
}

export type WriteOutcome = "written" | "unchanged" | "stale" | "manual";

const googleUpdated = (d: StoredDoc) => Date.parse(String(d.data.google_updated ?? "")) || 0;

/**
 * Writes Google's version of one event straight to DynamoDB (conditional on `rev`) and then
 * Redis (guarded by `rev`), like the persist worker. Ordered by Google's `updated`: an older or
 * equal version never replaces the stored one. Manual events are never touched.
 */
export class GoogleEventWriter {
  constructor(
    private readonly store: DynamoStore,
    private readonly hot: HotStore,
    private readonly now: () => Date,
    /** Events that ended before this instant stay out of the hot tier (see EventEviction). */
    private readonly evictBefore: () => number = () => Number.NEGATIVE_INFINITY,
    /** Called after an event changed in DynamoDB (the embed follow-up, like the persist worker's). */
    private readonly onChange: (user: string, id: string) => Promise<void> = async () => {},
  ) {}

  private async changed(user: string, id: string): Promise<void> {
    // Semantic recall catches up later (reindex) if this fails; the sync itself must not.
    await this.onChange(user, id).catch(() => {});
  }

  private async toHot(doc: StoredDoc): Promise<void> {
    if (eventEndMs(doc.data) < this.evictBefore()) await this.hot.remove(doc);
    else await this.hot.upsert(doc);
  }

  upsert(user: string, id: string, data: Record<string, unknown>, updated: number): Promise<WriteOutcome> {
    return this.write(user, id, updated, (cur) => {
      if (cur && googleUpdated(cur) >= updated && cur.data.status !== "cancelled") return "unchanged";
      if (cur && googleUpdated(cur) > updated) return "stale";
      return data;
    });
  }

  /** Marks the event cancelled in DynamoDB; the hot tier drops it (a hidden document). */
  cancel(user: string, id: string, updated: number | undefined): Promise<WriteOutcome> {
    return this.write(user, id, updated ?? 0, (cur) => {
      if (!cur) return "unchanged"; // never stored: nothing to mark
      if (cur.data.status === "cancelled") return "unchanged";
      if (updated !== undefined && googleUpdated(cur) > updated) return "stale";
      return {
        ...cur.data,
        status: "cancelled",
        cancelled_at: this.now().toISOString(),
        ...(updated ? { google_updated: new Date(updated).toISOString() } : {}),
      };
    });
  }

  /** Removes a Google event from both tiers (disconnect with purge). */
  async purge(doc: StoredDoc): Promise<boolean> {
    if (doc.data.source !== SOURCE) return false;
    for (let i = 0; i < MAX_CONFLICTS; i++) {
      const cur = i === 0 ? doc : await this.store.get(doc.user_id, "event", doc.id);
      if (!cur) return false;
      try {
        await this.store.delete(cur);
        await this.hot.remove(cur);
        await this.changed(cur.user_id, cur.id);
        return true;
      } catch (err) {
        if (!(err instanceof VersionConflict)) throw err;
      }
    }
    throw new Error(`gave up purging after ${MAX_CONFLICTS} conflicts`);
  }

  private async write(
    user: string,
    id: string,
    updated: number,
    decide: (cur: StoredDoc | undefined) => Record<string, unknown> | Exclude<WriteOutcome, "written">,
  ): Promise<WriteOutcome> {
    let seq: number | undefined;
    for (let i = 0; i < MAX_CONFLICTS; i++) {
      const cur = await this.store.get(user, "event", id);
      if (cur && cur.data.source !== SOURCE) return "manual";
      const d = decide(cur);
      if (typeof d === "string") {
        if (cur) await this.toHot(cur); // a replayed sync repairs Redis like a persist replay
        return d;
      }
      // One sequence number per write, like an API write: later manual edits win field by field.
      seq ??= await this.hot.nextSeq(user);
      const now = this.now().toISOString();
      const next: StoredDoc = cur
        ? structuredClone(cur)
        : {
            user_id: user,
            element: "event",
            id,
            data: {},
            fv: {},
            seq: 0,
            rev: 0,
            created_at: now,
            updated_at: now,
          };
      for (const f of OWNED) {
        if (d[f] === undefined) delete next.data[f];
        else next.data[f] = d[f];
        next.fv[f] = seq;
      }
      next.seq = Math.max(next.seq, seq);
      next.rev += 1;
      next.updated_at = now;
      try {
        await this.store.put(next);
      } catch (err) {
        if (err instanceof VersionConflict) continue;
        throw err;
      }
      await this.toHot(next);
      await this.changed(user, id);
      return "written";
    }
    throw new Error(`gave up after ${MAX_CONFLICTS} concurrent-write conflicts (updated ${updated})`);
  }
}
