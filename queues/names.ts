import type {
  CadencePayload,
  CadenceResult,
  DigestPayload,
  DigestResult,
  SummarizePayload,
  SummarizeResult,
} from "./cadence.js";
import type { CalendarSyncPayload, CalendarSyncResult } from "./calendar-sync.js";
import type { EmbedPayload, EmbedResult } from "./embed.js";
import type { PersistPayload, PersistResult } from "./persist.js";

/** Every queue and its payload/result: the compiler checks producers and processors against this map. */
export interface JobMap {
  persist: { payload: PersistPayload; result: PersistResult };
  cadence: { payload: CadencePayload; result: CadenceResult };
  summarize: { payload: SummarizePayload; result: SummarizeResult };
  digest: { payload: DigestPayload; result: DigestResult };
  embed: { payload: EmbedPayload; result: EmbedResult };
  "calendar-sync": { payload: CalendarSyncPayload; result: CalendarSyncResult };
}
export type QueueName = keyof JobMap;
export const QUEUE_NAMES: readonly QueueName[] = [
  "persist",
  "cadence",
  "summarize",
  "digest",
  "embed",
  "calendar-sync",
];
