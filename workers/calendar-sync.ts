import { DelayedError, type Job, UnrecoverableError } from "bullmq";
import { CalendarSyncPayload, type CalendarSyncResult } from "../queues/calendar-sync.js";
import { stopChannel } from "../src/google/channels.js";
import { sanitize } from "../src/google/client.js";
import type { GoogleCtx } from "../src/google/context.js";
import { maintain } from "../src/google/lifecycle.js";
import type { Held } from "../src/google/lock.js";
import type { CalendarServices } from "../src/google/services.js";
import { syncUser } from "../src/google/sync.js";
import { parsePayload } from "./payload.js";

export interface CalendarWorkerDeps {
  calendar?: CalendarServices;
}

const LOCK_WAIT_MS = 2000;
const BUSY_RETRY_MS = 2000;
const TICK_BATCHES = 20;
const LEASE_MS = 15 * 60_000;

/**
 * `calendar-sync` jobs. Everything that calls Google for a user runs under that user's lock;
 * a job that finds it taken goes back to delayed and retries (not counted as a failure).
 */
export function createCalendarSyncProcessor(deps: CalendarWorkerDeps) {
  const underLock = async <T>(
    ctx: GoogleCtx,
    job: Job,
    token: string | undefined,
    user: string,
    fn: (held: Held) => Promise<T>,
  ): Promise<T> => {
    const held = await ctx.locks.acquire(user, LOCK_WAIT_MS);
    if (!held) {
      if (!token) throw new Error("user's calendar lock is taken");
      await job.moveToDelayed(Date.now() + BUSY_RETRY_MS + Math.floor(Math.random() * 500), token);
      throw new DelayedError();
    }
    try {
      return await fn(held);
    } catch (err) {
      throw sanitize(err);
    } finally {
      await held.release();
    }
  };

  return async (job: Job, token?: string): Promise<CalendarSyncResult> => {
    const p = parsePayload(CalendarSyncPayload, job.data, "calendar-sync");
    const cal = deps.calendar;
    if (!cal) throw new UnrecoverableError("calendar services are not wired into this worker");
    if (p.kind === "evict") {
      const r = await cal.eviction.sweep(p.cursor);
      if (r.cursor !== "0") await cal.queue.evict(r.cursor, job.id);
      return {
        kind: p.kind,
        status: r.cursor === "0" ? "done" : "continued",
        counts: { keys: r.keys, evicted: r.evicted },
      };
    }
    const ctx = cal.ctx;
    if (p.kind === "tick") {
      if (!ctx) return { kind: p.kind, status: "disabled" };
      let users = 0;
      for (let i = 0; i < TICK_BATCHES; i++) {
        const batch = await ctx.due.claim(ctx.now().getTime(), ctx.s.tickBatch, LEASE_MS);
        await ctx.queue.maintain(batch);
        users += batch.length;
        if (batch.length < ctx.s.tickBatch) break;
      }
      return { kind: p.kind, status: "ok", counts: { users } };
    }
    if (!ctx) throw new UnrecoverableError("Google Calendar is not configured");
    switch (p.kind) {
      case "sync":
        return underLock(ctx, job, token, p.user_id, async (held) => {
          const r = await syncUser(ctx, p.user_id, held, p.reason);
          return {
            kind: p.kind,
            status: r.status,
            ...(r.counts ? { counts: { ...r.counts, full: r.full ? 1 : 0 } } : {}),
          };
        });
      case "maintain":
        return underLock(ctx, job, token, p.user_id, async () => {
          const r = await maintain(ctx, p.user_id);
          return {
            kind: p.kind,
            status: `${r.status}; channel ${r.channel}${r.polled ? "; poll queued" : ""}`,
          };
        });
      case "stop_channel":
        return underLock(ctx, job, token, p.user_id, async () => {
          const ok = await stopChannel(
            ctx,
            p.user_id,
            { id: p.channel_id, resource_id: p.resource_id },
            { refresh: true },
          );
          return { kind: p.kind, status: ok ? "stopped" : "not_stopped" };
        });
    }
  };
}
