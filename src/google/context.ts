import type { Logger } from "pino";
import type { CalendarSyncQueue } from "../../queues/calendar-sync.js";
import type { DynamoStore } from "../repositories/dynamo-store.js";
import type { GoogleClient } from "./client.js";
import type { DueIndex } from "./due.js";
import type { GoogleEventWriter } from "./events.js";
import type { UserLocks } from "./lock.js";
import type { GoogleSettings } from "./settings.js";
import type { GoogleStore } from "./store.js";
import type { TokenManager } from "./tokens.js";

/** What the Google parts share, built once per process (src/google/services.ts). */
export interface GoogleCtx {
  s: GoogleSettings;
  store: GoogleStore;
  google: GoogleClient;
  tokens: TokenManager;
  writer: GoogleEventWriter;
  docs: DynamoStore;
  locks: UserLocks;
  queue: CalendarSyncQueue;
  due: DueIndex;
  now: () => Date;
  log: Logger;
}
