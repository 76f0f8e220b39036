import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Redis } from "ioredis";
import { CadenceQueues } from "../../queues/cadence-queues.js";
import type { Config } from "../config/config.js";
import { CadenceStore } from "../repositories/cadence-store.js";
import type { HotStore } from "../repositories/redis-hot.js";
import { minutesOf } from "./clock.js";
import { DigestStore } from "./digest-store.js";
import type { FanoutDeps } from "./fanout.js";
import { journalWriter } from "./journal.js";
import { ChatStructuredModel, chooseEngine, type EngineKind, type StructuredModel } from "./llm.js";
import { UserIndex } from "./user-index.js";

export interface CadenceSettings {
  engine: EngineKind;
  journalDebounceMs: number;
  goalKeepDays: number;
  digest: { horizonDays: number; goalDays: number };
  schedules: boolean;
}

/** Everything the cadence workers and routes share, built once per process. */
export interface CadenceServices {
  settings: CadenceSettings;
  index: UserIndex;
  queues: CadenceQueues;
  store: CadenceStore;
  digests: DigestStore;
  /** Present when the engine is "llm". */
  model?: StructuredModel;
  fanout: FanoutDeps;
  journal: ReturnType<typeof journalWriter>;
  redis: Redis;
  keyPrefix: string;
  close(): Promise<void>;
}

export function createCadence(
  config: Config,
  parts: { redis: Redis; db: DynamoDBDocumentClient; hot: HotStore; now: () => Date },
): CadenceServices {
  const llm = {
    model: config.CHAT_MODEL,
    timeoutMs: config.LLM_TIMEOUT_MS,
    maxRetries: config.LLM_MAX_RETRIES,
    ...(config.OPENAI_API_KEY ? { apiKey: config.OPENAI_API_KEY } : {}),
    ...(config.OPENAI_BASE_URL ? { baseURL: config.OPENAI_BASE_URL } : {}),
  };
  const engine = chooseEngine(config.SUMMARIZER_ENGINE, llm);
  const index = new UserIndex(parts.redis, config.KEY_PREFIX);
  const queues = new CadenceQueues(parts.redis, config.QUEUE_PREFIX);
  const store = new CadenceStore(parts.db, config.DYNAMODB_TABLE);
  const settings: CadenceSettings = {
    engine,
    journalDebounceMs: config.JOURNAL_DEBOUNCE_MS,
    goalKeepDays: config.GOAL_PROGRESS_KEEP_DAYS,
    digest: { horizonDays: config.DIGEST_HORIZON_DAYS, goalDays: config.DIGEST_GOAL_DAYS },
    schedules: config.CADENCE_SCHEDULES === "on",
  };
  return {
    settings,
    index,
    queues,
    store,
    digests: new DigestStore(parts.redis, parts.hot, store, config.KEY_PREFIX, config.DIGEST_STREAM_MAXLEN),
    ...(engine === "llm" ? { model: new ChatStructuredModel(llm) } : {}),
    fanout: {
      redis: parts.redis,
      keyPrefix: config.KEY_PREFIX,
      index,
      queues,
      now: parts.now,
      config: {
        targets: {
          nightly: minutesOf(config.NIGHTLY_LOCAL_TIME),
          digest: minutesOf(config.DIGEST_LOCAL_TIME),
        },
        spreadMs: config.CADENCE_SPREAD_SECONDS * 1000,
        batch: config.CADENCE_BATCH,
      },
    },
    journal: journalWriter(store, index, queues, config.JOURNAL_DEBOUNCE_MS),
    redis: parts.redis,
    keyPrefix: config.KEY_PREFIX,
    close: () => queues.close(),
  };
}
