import { ensureChannel, stopChannel, stopStale } from "./channels.js";
import type { Grant } from "./client.js";
import { RevokedError, reasonOf } from "./client.js";
import type { GoogleCtx } from "./context.js";
import { SOURCE } from "./events.js";
import { type Connection, pushError } from "./store.js";
import { refreshTokenOf, reseal, sealGrant } from "./tokens.js";

const MIN_RECHECK_MS = 60_000;

/** After the OAuth callback: store the grant (encrypted), then queue the first sync and upkeep. */
export async function completeConnect(ctx: GoogleCtx, user: string, grant: Grant): Promise<Connection> {
  if (!grant.refresh_token) throw new Error("Google returned no refresh token");
  const now = ctx.now();
  const conn = (await ctx.store.update(user, (cur) => {
    const c: Connection = cur ?? {
      user_id: user,
      rev: 0,
      status: "connected",
      calendar_id: ctx.s.calendarId,
      connected_at: now.getTime(),
      errors: [],
    };
    if (cur?.channel) c.stale_channels = [...(c.stale_channels ?? []), cur.channel];
    c.status = "connected";
    c.connected_at = now.getTime();
    c.disconnected_at = undefined;
    c.disconnect_reason = undefined;
    c.channel = undefined;
    // A (re)connect may be another Google account: start over with a reconciling full sync.
    c.sync_token = undefined;
    c.full_sync_needed = true;
    sealGrant(ctx.s.cipher, c, grant, now);
    return c;
  })) as Connection;
  await ctx.queue.sync(user, "connect");
  await ctx.due.set(user, now.getTime());
  await ctx.queue.maintain([user]);
  return conn;
}

export interface DisconnectOptions {
  reason: "revoked" | "user" | "erased";
  code: string;
  /** Revoke the refresh token at Google (DELETE) — pointless once Google said invalid_grant. */
  revoke: boolean;
  purge?: boolean;
}

export interface DisconnectReport {
  channels_stopped: number;
  token_revoked: boolean;
  events_purged: number;
}

/**
 * Stops the user's channels, revokes and forgets the tokens and takes the user off the upkeep
 * index. `revoked` keeps a disconnected record (for GET …/google); the others delete it.
 * The caller holds the user's lock.
 */
export async function disconnect(
  ctx: GoogleCtx,
  user: string,
  o: DisconnectOptions,
): Promise<DisconnectReport> {
  const report: DisconnectReport = { channels_stopped: 0, token_revoked: false, events_purged: 0 };
  await ctx.due.remove(user);
  const conn = await ctx.store.get(user);
  if (conn) {
    const channels = [...(conn.channel ? [conn.channel] : []), ...(conn.stale_channels ?? [])];
    for (const ch of channels) {
      // After invalid_grant no new access token can be had: try with the cached one, then forget.
      if (await stopChannel(ctx, user, ch, { refresh: o.revoke }).catch(() => false))
        report.channels_stopped++;
      await ctx.store.deleteChannel(ch.id);
    }
    if (o.revoke) {
      let rt: string | undefined;
      try {
        rt = refreshTokenOf(ctx.s.cipher, conn);
      } catch (err) {
        ctx.log.warn({ reason: reasonOf(err) }, "stored refresh token unreadable; not revoked");
      }
      report.token_revoked = rt ? await ctx.google.revoke(rt) : false;
    }
    if (o.reason === "revoked") {
      await ctx.store.update(user, (c) => {
        if (!c) return undefined;
        const at = ctx.now();
        c.status = "disconnected";
        c.disconnected_at = at.getTime();
        c.disconnect_reason = "revoked";
        for (const k of [
          "refresh_token",
          "access_token",
          "access_expires_at",
          "sync_token",
          "channel",
          "stale_channels",
        ] as const)
          delete c[k];
        pushError(
          c,
          at,
          o.code,
          "Google refused the refresh token (revoked or expired); reconnect to resume",
        );
        return c;
      });
    } else {
      await ctx.store.delete(user);
    }
  }
  if (o.purge) {
    for (const d of await ctx.docs.loadUser(user)) {
      if (d.element === "event" && d.data.source === SOURCE && (await ctx.writer.purge(d)))
        report.events_purged++;
    }
  }
  ctx.log.info({ reason: o.reason, ...report }, "google calendar disconnected");
  return report;
}

/** Next upkeep: before the channel needs renewing, and by the time a fallback poll is due. */
function nextCheck(ctx: GoogleCtx, c: Connection): number {
  const now = ctx.now().getTime();
  const candidates = [(c.last_sync_at ?? now) + ctx.s.pollMs, now + ctx.s.pollMs];
  if (c.channel?.expires_at) candidates.push(c.channel.expires_at - ctx.s.renewBeforeMs);
  return Math.max(now + MIN_RECHECK_MS, Math.min(...candidates));
}

/** Push is healthy when a channel is open and not expired. */
export const pushActive = (c: Connection, now: number) =>
  !!c.channel?.expires_at && c.channel.expires_at > now;

/**
 * One user's upkeep (under the lock): rotate token encryption to the primary key, renew the
 * channel before it expires, stop replaced channels, and poll when push is missing or quiet
 * for longer than the poll interval.
 */
export async function maintain(
  ctx: GoogleCtx,
  user: string,
): Promise<{ status: string; polled: boolean; channel: string }> {
  const conn = await ctx.store.get(user);
  if (conn?.status !== "connected") {
    await ctx.due.remove(user);
    return { status: "not_connected", polled: false, channel: "none" };
  }
  const { cipher } = ctx.s;
  if ([conn.refresh_token, conn.access_token].some((v) => v && !cipher.isCurrent(v))) {
    await ctx.store.update(user, (c) => (c && reseal(cipher, c) ? c : undefined));
  }
  let channel: string;
  try {
    channel = await ensureChannel(ctx, user);
    await stopStale(ctx, user);
  } catch (err) {
    if (!(err instanceof RevokedError)) throw err;
    await disconnect(ctx, user, { reason: "revoked", code: "invalid_grant", revoke: false });
    return { status: "disconnected", polled: false, channel: "none" };
  }
  const now = ctx.now().getTime();
  const fresh = (await ctx.store.get(user)) ?? conn;
  // Counted from the connection when it has never synced: its first sync is already queued.
  const quiet = now - (fresh.last_sync_at ?? fresh.connected_at) >= ctx.s.pollMs;
  const polled = !pushActive(fresh, now) || quiet;
  if (polled) await ctx.queue.sync(user, "poll");
  await ctx.due.set(user, nextCheck(ctx, fresh));
  return { status: "ok", polled, channel };
}
