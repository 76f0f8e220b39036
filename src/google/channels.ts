import { createHash, randomBytes } from "node:crypto";
import { isUnauthorized, RevokedError, reasonOf } from "./client.js";
import type { GoogleCtx } from "./context.js";
import { type ChannelInfo, pushError } from "./store.js";

export const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

/** Pending channels (watch sent, answer not recorded) are given up on after this long. */
const PENDING_GRACE_MS = 3_600_000;

/**
 * Opens a push channel when there is none or the current one expires within the renewal
 * margin. The new channel is recorded as pending before `events.watch`, so a crash in between
 * leaves a channel we can still attribute (and stop), never an unknown one.
 */
export async function ensureChannel(ctx: GoogleCtx, user: string): Promise<"kept" | "opened" | "failed"> {
  const conn = await ctx.store.get(user);
  if (conn?.status !== "connected") return "failed";
  const now = ctx.now().getTime();
  if (conn.channel?.expires_at && conn.channel.expires_at - ctx.s.renewBeforeMs > now) return "kept";

  const token = randomBytes(32).toString("base64url");
  const pending: ChannelInfo = {
    id: `gc${randomBytes(16).toString("hex")}`,
    token_hash: hashToken(token),
    created_at: now,
  };
  await ctx.store.update(user, (c) => {
    if (c?.status !== "connected") return undefined;
    c.stale_channels = [...(c.stale_channels ?? []), pending];
    return c;
  });
  await ctx.store.putChannel(user, pending);
  try {
    const w = await ctx.tokens.withToken(
      user,
      (t) =>
        ctx.google.watch(t, {
          calendarId: conn.calendar_id,
          id: pending.id,
          token,
          address: ctx.s.webhookUrl,
          ttlMs: ctx.s.channelTtlMs,
        }),
      isUnauthorized,
    );
    const opened: ChannelInfo = {
      ...pending,
      resource_id: w.resource_id,
      expires_at: w.expires_at || now + ctx.s.channelTtlMs,
    };
    await ctx.store.putChannel(user, opened);
    await ctx.store.update(user, (c) => {
      if (!c) return undefined;
      const rest = (c.stale_channels ?? []).filter((x) => x.id !== opened.id);
      c.stale_channels = c.channel ? [...rest, c.channel] : rest;
      c.channel = opened;
      return c;
    });
    return "opened";
  } catch (err) {
    ctx.log.warn({ reason: reasonOf(err) }, "events.watch failed; polling covers this user");
    await ctx.store.update(user, (c) => {
      if (!c) return undefined;
      pushError(c, ctx.now(), "watch_failed", reasonOf(err));
      return c;
    });
    if (err instanceof RevokedError) throw err;
    return "failed";
  }
}

/** Stops one channel at Google (if we know its resource) and forgets it. */
export async function stopChannel(
  ctx: GoogleCtx,
  user: string,
  ch: { id: string; resource_id?: string | undefined },
  opts: { refresh: boolean },
): Promise<boolean> {
  let stopped = !ch.resource_id;
  if (ch.resource_id) {
    const target = { id: ch.id, resource_id: ch.resource_id };
    try {
      stopped = opts.refresh
        ? await ctx.tokens.withToken(user, (t) => ctx.google.stop(t, target), isUnauthorized)
        : await ctx.google.stop(await ctx.tokens.accessToken(user), target);
    } catch (err) {
      ctx.log.warn({ reason: reasonOf(err) }, "channels.stop failed");
      stopped = false;
    }
  }
  if (stopped) {
    await ctx.store.deleteChannel(ch.id);
    await ctx.store.update(user, (c) => {
      if (!c || !(c.stale_channels ?? []).some((x) => x.id === ch.id)) return undefined;
      c.stale_channels = (c.stale_channels ?? []).filter((x) => x.id !== ch.id);
      return c;
    });
  }
  return stopped;
}

/** Stops replaced channels; pending ones that never got an answer are dropped after a grace period. */
export async function stopStale(ctx: GoogleCtx, user: string): Promise<number> {
  const conn = await ctx.store.get(user);
  let n = 0;
  for (const ch of conn?.stale_channels ?? []) {
    if (!ch.resource_id && ctx.now().getTime() - ch.created_at < PENDING_GRACE_MS) continue;
    if (await stopChannel(ctx, user, ch, { refresh: true })) n++;
  }
  return n;
}
