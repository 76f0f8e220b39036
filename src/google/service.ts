import { timingSafeEqual } from "node:crypto";
import type { Redis } from "ioredis";
import { AppError } from "../errors.js";
import { hashToken } from "./channels.js";
import { AccessDenied, reasonOf } from "./client.js";
import type { GoogleCtx } from "./context.js";
import { completeConnect, type DisconnectReport, disconnect, pushActive } from "./lifecycle.js";
import { InvalidStateError, signState, verifyState } from "./state.js";

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
const LOCK_WAIT_MS = 15_000;

export interface Notification {
  channelId?: string;
  token?: string;
  resourceId?: string;
  state?: string;
}
export type NotifyOutcome = "queued" | "acknowledged" | "stale_channel" | "unknown_channel" | "not_connected";

const sameHash = (a: string, b: string) => {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
};

/** The Google Calendar connection as the API sees it: connect, callback, status, disconnect, webhook. */
export class GoogleCalendar {
  constructor(
    readonly ctx: GoogleCtx,
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  connect(user: string): { authorization_url: string; state_expires_at: string } {
    const st = signState(this.ctx.s.cipher, user, this.ctx.now(), this.ctx.s.stateTtlMs);
    return {
      authorization_url: this.ctx.google.consentUrl(st.state),
      state_expires_at: iso(st.expires_at) as string,
    };
  }

  async callback(q: { state?: unknown; code?: unknown; error?: unknown }) {
    let claims: ReturnType<typeof verifyState>;
    try {
      claims = verifyState(this.ctx.s.cipher, q.state, this.ctx.now());
    } catch (err) {
      if (err instanceof InvalidStateError) throw new AppError(400, "invalid_state", err.message);
      throw err;
    }
    // Single use: a replayed callback URL (browser history, logs) cannot connect again.
    const fresh = await this.redis.set(
      `${this.keyPrefix}:gcal:state:${claims.nonce}`,
      "1",
      "PX",
      Math.max(1000, claims.expires_at - this.ctx.now().getTime()),
      "NX",
    );
    if (fresh !== "OK")
      throw new AppError(400, "invalid_state", "state was already used; start the connection again");
    if (typeof q.error === "string")
      throw new AppError(400, "access_denied", `Google answered: ${q.error.slice(0, 100)}`);
    if (typeof q.code !== "string" || q.code.length === 0 || q.code.length > 2048)
      throw new AppError(400, "invalid_code", "code is missing");
    let grant: Awaited<ReturnType<typeof this.ctx.google.exchange>>;
    try {
      grant = await this.ctx.google.exchange(q.code);
    } catch (err) {
      if (err instanceof AccessDenied) throw new AppError(400, "invalid_grant", err.message);
      this.ctx.log.warn({ reason: reasonOf(err) }, "google code exchange failed");
      throw new AppError(502, "google_unavailable", "Google's token endpoint did not answer; try again");
    }
    if (!grant.refresh_token)
      throw new AppError(
        502,
        "no_refresh_token",
        "Google returned no refresh token; start the connection again",
      );
    await completeConnect(this.ctx, claims.user_id, grant);
    const status = await this.status(claims.user_id);
    return {
      connected: true,
      user_id: claims.user_id,
      status_url: `/v1/users/${claims.user_id}/google`,
      ...status,
    };
  }

  async status(user: string) {
    const c = await this.ctx.store.get(user);
    if (!c) return { enabled: true, status: "not_connected" };
    const now = this.ctx.now().getTime();
    const exp = c.channel?.expires_at;
    return {
      enabled: true,
      status: c.status,
      calendar_id: c.calendar_id,
      scope: c.scope ?? null,
      connected_at: iso(c.connected_at),
      disconnected_at: iso(c.disconnected_at),
      disconnect_reason: c.disconnect_reason ?? null,
      last_sync_at: iso(c.last_sync_at),
      last_sync_status: c.last_sync_status ?? null,
      last_full_sync_at: iso(c.last_full_sync_at),
      last_sync_counts: c.last_sync_counts ?? null,
      sync_running: await this.ctx.locks.isHeld(user),
      push: {
        status: pushActive(c, now) ? "active" : exp ? "expired" : "missing",
        channel_expires_at: iso(exp),
        next_renewal_at: exp ? iso(exp - this.ctx.s.renewBeforeMs) : null,
        last_notification_at: iso(c.last_notification_at),
      },
      next_check_at: c.status === "connected" ? iso(await this.ctx.due.get(user)) : null,
      errors: c.errors,
    };
  }

  /** Stops channels, revokes and deletes tokens; `purge` also removes the synced events. */
  async disconnect(user: string, purge: boolean): Promise<DisconnectReport & { disconnected: boolean }> {
    const held = await this.ctx.locks.acquire(user, LOCK_WAIT_MS);
    if (!held) throw new AppError(503, "busy", "a sync of this user is running; retry shortly");
    try {
      const had = !!(await this.ctx.store.get(user));
      const r = await disconnect(this.ctx, user, {
        reason: "user",
        code: "disconnected",
        revoke: true,
        purge,
      });
      return { disconnected: had, ...r };
    } finally {
      await held.release();
    }
  }

  /**
   * A push notification. The channel token is the credential: checked against the stored hash
   * of the channel's own token. Answers fast: the sync itself is a queued job.
   */
  async notify(n: Notification): Promise<NotifyOutcome> {
    if (!n.channelId) throw new AppError(400, "invalid_notification", "X-Goog-Channel-ID is missing");
    const ch = /^[A-Za-z0-9_+/=-]{1,64}$/.test(n.channelId)
      ? await this.ctx.store.getChannel(n.channelId)
      : undefined;
    if (!ch) return "unknown_channel";
    if (!n.token || !sameHash(hashToken(n.token), ch.token_hash))
      throw new AppError(403, "invalid_channel_token", "channel token does not match");
    const conn = await this.ctx.store.get(ch.user_id);
    if (conn?.status !== "connected") {
      await this.ctx.store.deleteChannel(ch.id);
      return "not_connected";
    }
    const pending = (conn.stale_channels ?? []).some((x) => x.id === ch.id && !x.resource_id);
    if (conn.channel?.id !== ch.id && !pending) {
      const resource = n.resourceId ?? ch.resource_id;
      if (resource) await this.ctx.queue.stopChannel(ch.user_id, ch.id, resource);
      return "stale_channel";
    }
    if (n.state === "sync") return "acknowledged";
    await this.ctx.queue.sync(ch.user_id, "push");
    return "queued";
  }
}
