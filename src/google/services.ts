import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { CalendarSyncQueue } from "../../queues/calendar-sync.js";
import type { Config } from "../config/config.js";
import type { DynamoStore } from "../repositories/dynamo-store.js";
import type { HotStore } from "../repositories/redis-hot.js";
import { EventEviction } from "../services/event-eviction.js";
import { GoogleClient } from "./client.js";
import type { GoogleCtx } from "./context.js";
import { DueIndex } from "./due.js";
import { GoogleEventWriter } from "./events.js";
import { UserLocks } from "./lock.js";
import { GoogleCalendar } from "./service.js";
import { googleSettings } from "./settings.js";
import { GoogleStore } from "./store.js";
import { TokenManager } from "./tokens.js";

export const DISABLED_REASON = "GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET and PUBLIC_BASE_URL are not set";

/** The calendar parts every process shares; `google`/`ctx` only when Google is configured. */
export interface CalendarServices {
  queue: CalendarSyncQueue;
  eviction: EventEviction;
  store: GoogleStore;
  due: DueIndex;
  locks: UserLocks;
  google?: GoogleCalendar;
  ctx?: GoogleCtx;
  close(): Promise<void>;
}

export function createCalendar(
  config: Config,
  parts: {
    redis: Redis;
    db: DynamoDBDocumentClient;
    store: DynamoStore;
    hot: HotStore;
    now: () => Date;
    log: Logger;
    onEventChange?: (user: string, id: string) => Promise<void>;
  },
): CalendarServices {
  const s = googleSettings(config); // throws ConfigError on a half configuration
  const queue = new CalendarSyncQueue(parts.redis, config.QUEUE_PREFIX);
  const evictAfterMs = config.EVENT_EVICT_AFTER_HOURS * 3_600_000;
  const eviction = new EventEviction(
    parts.redis,
    config.KEY_PREFIX,
    () => parts.now().getTime() - evictAfterMs,
  );
  const store = new GoogleStore(parts.db, config.DYNAMODB_TABLE);
  const due = new DueIndex(parts.redis, config.KEY_PREFIX);
  const locks = new UserLocks(parts.redis, (u) => `${parts.hot.base(u)}gcal:lock`);
  const out: CalendarServices = { queue, eviction, store, due, locks, close: () => queue.close() };
  if (!s) return out;
  const google = new GoogleClient(s);
  const ctx: GoogleCtx = {
    s,
    store,
    google,
    tokens: new TokenManager(store, google, s.cipher, parts.now),
    writer: new GoogleEventWriter(parts.store, parts.hot, parts.now, eviction.cutoff, parts.onEventChange),
    docs: parts.store,
    locks,
    queue,
    due,
    now: parts.now,
    log: parts.log.child({ component: "google-calendar" }),
  };
  out.ctx = ctx;
  out.google = new GoogleCalendar(ctx, parts.redis, config.KEY_PREFIX);
  return out;
}
