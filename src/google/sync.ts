import type { StoredDoc } from "../elements/stored.js";
import { eventEndMs } from "../services/event-eviction.js";
import { isUnauthorized, RevokedError, reasonOf, SyncTokenGone } from "./client.js";
import type { GoogleCtx } from "./context.js";
import { docIdOf, fromGoogle, SOURCE } from "./events.js";
import { disconnect } from "./lifecycle.js";
import type { Held } from "./lock.js";
import { type Connection, pushError } from "./store.js";

export class SyncAborted extends Error {}

export interface SyncOutcome {
  status: "synced" | "not_connected" | "disconnected";
  full?: boolean;
  counts?: { upserted: number; cancelled: number; unchanged: number; invalid: number; pages: number };
}

type Counts = NonNullable<SyncOutcome["counts"]>;

const overlaps = (d: StoredDoc, min: number, max: number) => {
  const start = eventEndMs({ end: d.data.start });
  const end = eventEndMs(d.data);
  return end >= min && start < max;
};

/**
 * One user's sync, under the user's lock. Full (bounded window, every page, then the vanished
 * events are marked cancelled) when there is no sync token, a resync is due or Google answers
 * 410; otherwise incremental from the stored sync token.
 */
export async function syncUser(
  ctx: GoogleCtx,
  user: string,
  lock: Held,
  reason: string,
): Promise<SyncOutcome> {
  const conn = await ctx.store.get(user);
  if (conn?.status !== "connected") return { status: "not_connected" };
  const now = ctx.now().getTime();
  const wantFull =
    !conn.sync_token || !!conn.full_sync_needed || now - (conn.last_full_sync_at ?? 0) >= ctx.s.fullResyncMs;
  const counts: Counts = { upserted: 0, cancelled: 0, unchanged: 0, invalid: 0, pages: 0 };
  let full = wantFull;
  let token: string | undefined;
  try {
    try {
      token = wantFull ? await fullSync(ctx, conn, lock, counts) : await incremental(ctx, conn, lock, counts);
    } catch (err) {
      if (!(err instanceof SyncTokenGone)) throw err;
      full = true;
      ctx.log.info("sync token expired (410): full resync");
      token = await fullSync(ctx, conn, lock, counts);
    }
  } catch (err) {
    if (err instanceof RevokedError) {
      await disconnect(ctx, user, { reason: "revoked", code: "invalid_grant", revoke: false });
      return { status: "disconnected" };
    }
    if (err instanceof SyncAborted) return { status: "not_connected" };
    await ctx.store.update(user, (c) => {
      if (c?.status !== "connected") return undefined;
      c.last_sync_status = "error";
      pushError(c, ctx.now(), "sync_failed", reasonOf(err));
      return c;
    });
    throw err;
  }
  await ctx.store.update(user, (c) => {
    if (c?.status !== "connected") return undefined;
    const at = ctx.now().getTime();
    if (token) c.sync_token = token;
    if (full) {
      c.last_full_sync_at = at;
      c.full_sync_needed = false;
    }
    c.last_sync_at = at;
    c.last_sync_status = "ok";
    c.last_sync_counts = {
      upserted: counts.upserted,
      cancelled: counts.cancelled,
      unchanged: counts.unchanged,
    };
    if (reason === "push") c.last_notification_at = at;
    return c;
  });
  return { status: "synced", full, counts };
}

/** Between pages: keep the lease, and stop if the user disconnected meanwhile. */
async function checkpoint(ctx: GoogleCtx, user: string, lock: Held): Promise<void> {
  await lock.extend();
  const c = await ctx.store.get(user);
  if (c?.status !== "connected") throw new SyncAborted();
}

async function pages(
  ctx: GoogleCtx,
  conn: Connection,
  lock: Held,
  counts: Counts,
  query: { syncToken?: string; timeMin?: string; timeMax?: string },
  seen?: Set<string>,
): Promise<string | undefined> {
  const user = conn.user_id;
  let pageToken: string | undefined;
  for (;;) {
    const page = await ctx.tokens.withToken(
      user,
      (t) =>
        ctx.google.listEvents(t, {
          calendarId: conn.calendar_id,
          ...query,
          ...(pageToken ? { pageToken } : {}),
        }),
      isUnauthorized,
    );
    counts.pages++;
    for (const ev of page.items ?? []) {
      if (!ev.id) continue;
      const id = docIdOf(conn.calendar_id, ev.id);
      seen?.add(id);
      const updated = ev.updated ? Date.parse(ev.updated) : undefined;
      if (ev.status === "cancelled") {
        const r = await ctx.writer.cancel(user, id, Number.isNaN(updated) ? undefined : updated);
        if (r === "written") counts.cancelled++;
        else counts.unchanged++;
        continue;
      }
      const m = fromGoogle(ev, conn.calendar_id);
      if (!m.ok) {
        counts.invalid++;
        continue;
      }
      const r = await ctx.writer.upsert(user, id, m.data, m.updated);
      if (r === "written") counts.upserted++;
      else counts.unchanged++;
    }
    await checkpoint(ctx, user, lock);
    if (!page.nextPageToken) return page.nextSyncToken ?? undefined;
    pageToken = page.nextPageToken;
  }
}

async function incremental(ctx: GoogleCtx, conn: Connection, lock: Held, counts: Counts) {
  return pages(ctx, conn, lock, counts, { syncToken: conn.sync_token as string });
}

async function fullSync(ctx: GoogleCtx, conn: Connection, lock: Held, counts: Counts) {
  const now = ctx.now().getTime();
  const min = now - ctx.s.windowBackMs;
  const max = now + ctx.s.windowAheadMs;
  const seen = new Set<string>();
  const token = await pages(
    ctx,
    conn,
    lock,
    counts,
    { timeMin: new Date(min).toISOString(), timeMax: new Date(max).toISOString() },
    seen,
  );
  // Reconcile: a Google event we hold inside the window that Google no longer lists is gone.
  const docs = await ctx.docs.loadUser(conn.user_id);
  for (const d of docs) {
    if (d.element !== "event" || d.data.source !== SOURCE || d.data.status === "cancelled") continue;
    if (d.data.calendar_id !== conn.calendar_id || seen.has(d.id) || !overlaps(d, min, max)) continue;
    if ((await ctx.writer.cancel(conn.user_id, d.id, undefined)) === "written") counts.cancelled++;
  }
  return token;
}
