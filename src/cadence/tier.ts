import type { UserTier } from "../services/user-tiers.js";
import type { CadenceServices } from "./services.js";

/**
 * What the cadences hold about a user outside the user's own partition and key tag: the
 * timezone index entry and the digest events on the shared stream. The journal and the
 * stored digest live in the DynamoDB partition and the hot tier (erased with them); export
 * lists them here because the document export does not.
 */
export function cadenceTier(c: CadenceServices): UserTier {
  return {
    name: "cadence",
    erase: async (user) => {
      await c.index.remove(user);
      await c.digests.eraseStream(user);
    },
    count: async (user) =>
      ((await c.index.zoneOfUser(user)) ? 1 : 0) + (await c.digests.streamEntries(user)).length,
    export: async (user) => ({
      timezone_index: (await c.index.zoneOfUser(user)) ?? null,
      journal: (await c.store.allJournal(user)).map(({ seq: _s, ...e }) => e),
      digest: (await c.store.getDigest(user)) ?? null,
      digest_events: (await c.digests.streamEntries(user)).length,
    }),
  };
}
