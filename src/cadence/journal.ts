import { createHash } from "node:crypto";
import { z } from "zod";
import type { CadenceQueues } from "../../queues/cadence-queues.js";
import type { PersistPayload, PersistResult } from "../../queues/persist.js";
import { isoDateTime, LIMITS } from "../elements/common.js";
import type { CadenceStore } from "../repositories/cadence-store.js";
import type { UserIndex } from "./user-index.js";

export const JournalInput = z.strictObject({
  text: z.string().trim().min(1).max(LIMITS.longText),
  at: isoDateTime().optional(),
});
export type JournalInput = z.infer<typeof JournalInput>;

/** Clock skew a client may have; later `at` values are refused. */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

/**
 * The sequence number of what a journal entry says, in the same unit as write sequences
 * (microseconds): field-level last-writer-wins then lets an explicit edit made after the
 * entry was written beat the state the entry implies, and an older edit lose to it.
 */
export function journalSeq(atIso: string, id: string): number {
  const tiebreak = createHash("sha256").update(id).digest().readUInt16BE(0) % 1000;
  return Date.parse(atIso) * 1000 + tiebreak;
}

/** The persist worker's journal path: store once, index the user, trigger the post-journal run. */
export function journalWriter(
  store: CadenceStore,
  index: UserIndex,
  queues: CadenceQueues,
  debounceMs: number,
) {
  return {
    async add(p: Extract<PersistPayload, { op: "add_journal" }>): Promise<PersistResult> {
      const d = p.data as { text: string; at: string; recorded_at: string };
      const added = await store.addJournal(p.user_id, {
        journal_id: p.id,
        text: d.text,
        at: d.at,
        recorded_at: d.recorded_at,
        seq: journalSeq(d.at, p.id),
      });
      await index.ensure(p.user_id);
      // Also on a replay: the first attempt may have died before triggering (deduplicated anyway).
      await queues.triggerJournal(p.user_id, debounceMs);
      return { element: "journal", id: p.id, version: 1, applied: added };
    },
  };
}
