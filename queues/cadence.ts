import { z } from "zod";
import { isoDate, UserId } from "../src/elements/common.js";

export const CADENCE_QUEUE = "cadence";
export const SUMMARIZE_QUEUE = "summarize";
export const DIGEST_QUEUE = "digest";

export const CADENCE_NAMES = ["nightly", "digest"] as const;
export type CadenceName = (typeof CADENCE_NAMES)[number];

const zone = z.string().min(1).max(64);

/** `cadence` queue: the scheduler's tick, and the fan-out batches it starts. */
export const CadencePayload = z.discriminatedUnion("kind", [
  // `at` is for operators and tests; scheduler ticks use their scheduled time.
  z.object({ kind: z.literal("tick"), at: z.iso.datetime().optional() }),
  z.object({
    kind: z.literal("fanout"),
    cadence: z.enum(CADENCE_NAMES),
    tz: zone,
    local_date: isoDate(),
    /** Start of the tick's window (epoch ms): per-user jobs are spread after it. */
    window_start: z.number().int().nonnegative(),
    /** Last user of the previous batch (exclusive); absent for the first batch. */
    after: UserId.optional(),
  }),
]);
export type CadencePayload = z.infer<typeof CadencePayload>;
export interface CadenceResult {
  slots?: number;
  fanouts?: number;
  users?: number;
  next_after?: string | null;
}

/** `summarize` queue: a user's nightly run (goals, state, feedback) or the post-journal run (state). */
export const SummarizePayload = z.object({
  kind: z.enum(["nightly", "journal"]),
  user_id: UserId,
  local_date: isoDate().optional(),
});
export type SummarizePayload = z.infer<typeof SummarizePayload>;
export interface SummarizeResult {
  steps: Record<string, string>;
}

/** `digest` queue: one user's morning digest for one local date. */
export const DigestPayload = z.object({ user_id: UserId, local_date: isoDate(), tz: zone });
export type DigestPayload = z.infer<typeof DigestPayload>;
export interface DigestResult {
  status: "stored" | "exists" | "unknown_user";
  counts?: Record<string, number>;
}

/** Deterministic ids: the same (user, local date) is queued once however often it is fanned out. */
export const jobIds = {
  perUser: (cadence: CadenceName, user: string, date: string) => `${cadence}.${user}.${date}`,
  fanout: (cadence: CadenceName, tzKey: string, date: string, afterKey: string) =>
    `fan.${cadence}.${tzKey}.${date}.${afterKey}`,
  journalDedup: (user: string) => `journal.${user}`,
};
