import type { PersistQueue } from "../../queues/persist-queue.js";
import type { CadenceServices } from "../cadence/services.js";
import type { CalendarServices } from "../google/services.js";
import type { Metrics } from "../ops/metrics.js";
import type { DynamoStore } from "../repositories/dynamo-store.js";
import type { RateLimiter } from "../repositories/rate-limiter.js";
import type { HotStore } from "../repositories/redis-hot.js";
import type { Semantic } from "../semantic/service.js";
import type { MemoryReader } from "../services/reader.js";
import type { UserTier } from "../services/user-tiers.js";

export interface ApiDeps {
  reader: MemoryReader;
  hot: HotStore;
  store: DynamoStore;
  persist: PersistQueue;
  now: () => Date;
  /** False while the command connection to Redis is down: requests answer 503 at once instead of waiting on retries. */
  redisReady?: () => boolean;
  /** Every tier holding user data (export and erasure walk them in order); push yours in startSystem. */
  tiers: UserTier[];
  /** Per-key and per-user request buckets (Redis, shared by every API process). */
  limiter: RateLimiter;
  /** Prometheus metrics (absent in unit tests that build deps by hand). */
  metrics?: Metrics;
  /** Journal, digest, inference and the cadence queues (absent in hand-built deps: routes not mounted). */
  cadence?: CadenceServices;
  /** Semantic memory: embedder, vector index, search (absent in hand-built deps: search answers 503). */
  semantic?: Semantic;
  /** Google Calendar and event eviction (absent in hand-built deps: …/google reports disabled). */
  calendar?: CalendarServices;
}
