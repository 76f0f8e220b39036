import { z } from "zod";
import { ItemId, UserId } from "../src/elements/common.js";

export const PERSIST_QUEUE = "persist";

const base = { user_id: UserId, seq: z.number().int().positive(), request_id: z.string().max(64).optional() };
const singleton = z.enum(["profile", "preferences", "state", "feedback_summary"]);
const collection = z.enum(["goal", "todo", "event"]);
const data = z.record(z.string(), z.unknown());

/** One memory write. Validated by the ingress; the worker re-checks the envelope. */
export const PersistPayload = z.discriminatedUnion("op", [
  z.object({ op: z.literal("put"), element: singleton, data, ...base }),
  z.object({
    op: z.literal("patch"),
    element: z.union([singleton, collection]),
    id: ItemId.optional(),
    data,
    ...base,
  }),
  z.object({ op: z.literal("create"), element: collection, id: ItemId, data, ...base }),
  z.object({ op: z.literal("delete"), element: collection, id: ItemId, ...base }),
  z.object({
    op: z.literal("append_progress"),
    element: z.literal("goal"),
    id: ItemId,
    entry: data,
    ...base,
  }),
  z.object({ op: z.literal("add_feedback"), id: ItemId, data, ...base }),
  // Cadences (README "Cadences"): journal entries, condensed goal progress, inferred preferences.
  z.object({ op: z.literal("add_journal"), id: ItemId, data, ...base }),
  z.object({
    op: z.literal("condense_progress"),
    element: z.literal("goal"),
    id: ItemId,
    drop: z.array(ItemId).max(10_000),
    summary: z.string().max(2000),
    ...base,
  }),
  z.object({
    op: z.literal("infer"),
    element: z.literal("preferences"),
    data,
    provenance: z.object({
      source_text: z.string().max(4000),
      at: z.string().max(40),
      engine: z.string().max(20),
      confidence: z.record(z.string(), z.number().min(0).max(1)),
    }),
    ...base,
  }),
]);
export type PersistPayload = z.infer<typeof PersistPayload>;

export interface PersistResult {
  element: string;
  id: string;
  version: number | null;
  applied: boolean;
}
