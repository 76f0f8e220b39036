import type { PersistPayload, PersistResult } from "./persist.js";

/** Every queue and its payload/result: the compiler checks producers and processors against this map. */
export interface JobMap {
  persist: { payload: PersistPayload; result: PersistResult };
}
export type QueueName = keyof JobMap;
export const QUEUE_NAMES: readonly QueueName[] = ["persist"];
