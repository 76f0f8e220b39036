import type { UserTier } from "../services/user-tiers.js";
import { disconnect } from "./lifecycle.js";
import type { CalendarServices } from "./services.js";

const LOCK_WAIT_MS = 10_000;

/**
 * The Google connection (encrypted tokens, channels, upkeep index). Erasure stops the channels
 * and revokes the grant at Google before the records go; export shows the connection's state,
 * never a token. Registered before the DynamoDB tier, which would delete the record first.
 */
export function googleTier(cal: CalendarServices): UserTier {
  const channelsOf = async (user: string) => {
    const c = await cal.store.get(user);
    return c ? [...(c.channel ? [c.channel] : []), ...(c.stale_channels ?? [])] : [];
  };
  return {
    name: "google_calendar",
    erase: async (user) => {
      if (cal.ctx) {
        const held = await cal.locks.acquire(user, LOCK_WAIT_MS);
        try {
          await disconnect(cal.ctx, user, { reason: "erased", code: "erased", revoke: true });
        } finally {
          await held?.release();
        }
        return;
      }
      for (const ch of await channelsOf(user)) await cal.store.deleteChannel(ch.id);
      await cal.store.delete(user);
      await cal.due.remove(user);
    },
    count: async (user) => {
      let n = (await cal.due.get(user)) === undefined ? 0 : 1;
      for (const ch of await channelsOf(user)) if (await cal.store.getChannel(ch.id)) n++;
      if (await cal.store.get(user)) n++;
      return n;
    },
    export: async (user) => {
      if (cal.google) return cal.google.status(user);
      const c = await cal.store.get(user);
      return c
        ? { enabled: false, status: c.status, calendar_id: c.calendar_id }
        : { enabled: false, status: "not_connected" };
    },
  };
}
