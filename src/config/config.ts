import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((v) => v === "true" || v === "1");

/** Unset and empty (`VAR=` in compose files) both mean "not configured". */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === "" ? undefined : v), schema.optional());

/** HH:MM on a quarter hour: the cadence tick runs every 15 minutes. */
const localTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):(00|15|30|45)$/, "must be HH:MM on a quarter hour, such as 03:30");

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  DATA_DIR: z.string().min(1).default("./data"),
  MEMORY_API_KEYS: z
    .string()
    .default("")
    .transform((s) =>
      s
        .split(",")
        .map((k) => k.trim())
        .filter((k) => k.length > 0),
    ),
  // unset = embedded dynalite; "aws" = the real regional endpoint with the default credential chain
  DYNAMODB_ENDPOINT: z.union([z.literal("aws"), z.string().url()]).optional(),
  AWS_REGION: z.string().min(1).default("us-east-1"),
  DYNALITE_PORT: z.coerce.number().int().min(0).max(65535).default(8010),
  DYNAMODB_TABLE: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{3,255}$/)
    .default("companion_memory"),
  KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,32}$/)
    .default("mem"),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,32}$/)
    .default("bull"),
  WRITE_WAIT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(1000).max(600_000).default(15_000),
  WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  ALLOW_EVICTING_REDIS: bool,
  // Access control (README "Access control, export and erasure"); user tokens are off until set.
  MEMORY_JWT_SECRET: unsetIfEmpty(z.string().min(32, "must be at least 32 characters").max(4096)),
  RATE_LIMIT_PER_KEY: z.coerce.number().int().min(0).default(12_000),
  RATE_LIMIT_PER_USER: z.coerce.number().int().min(0).default(600),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  // Ops surface (README "Operations"): Bull Board is off until both are set.
  ADMIN_USER: unsetIfEmpty(z.string().max(128)),
  ADMIN_PASSWORD: unsetIfEmpty(z.string().min(12, "must be at least 12 characters").max(1024)),
  ADMIN_READ_ONLY: bool,
  METRICS_TOKEN: unsetIfEmpty(z.string().min(16, "must be at least 16 characters").max(4096)),
  OPS_PORT: unsetIfEmpty(z.coerce.number().int().min(0).max(65535)),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  READY_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(2000),
  // Any OpenAI-compatible server (shared by every LLM/embedding user); unset = offline defaults.
  OPENAI_API_KEY: unsetIfEmpty(z.string().min(1).max(4096)),
  OPENAI_BASE_URL: unsetIfEmpty(z.string().url()),
  // Cadences (README "Cadences"): summarizers, journal, digest, inference.
  CHAT_MODEL: z.string().min(1).max(200).default("gpt-4o-mini"),
  SUMMARIZER_ENGINE: z.enum(["auto", "rules", "llm"]).default("auto"),
  LLM_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(60_000),
  LLM_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(1),
  NIGHTLY_LOCAL_TIME: localTime.default("03:30"),
  DIGEST_LOCAL_TIME: localTime.default("07:00"),
  CADENCE_SPREAD_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(6 * 3600)
    .default(1800),
  CADENCE_BATCH: z.coerce.number().int().min(1).max(10_000).default(500),
  CADENCE_SCHEDULES: z.enum(["on", "off"]).default("on"),
  JOURNAL_DEBOUNCE_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  GOAL_PROGRESS_KEEP_DAYS: z.coerce.number().int().min(0).max(3650).default(14),
  DIGEST_HORIZON_DAYS: z.coerce.number().int().min(1).max(60).default(3),
  DIGEST_GOAL_DAYS: z.coerce.number().int().min(1).max(365).default(14),
  DIGEST_STREAM_MAXLEN: z.coerce.number().int().min(100).max(10_000_000).default(10_000),
  // Google Calendar (README "Google Calendar"): disabled until client id, secret and PUBLIC_BASE_URL are set.
  GOOGLE_CLIENT_ID: unsetIfEmpty(z.string().min(1).max(1024)),
  GOOGLE_CLIENT_SECRET: unsetIfEmpty(z.string().min(1).max(1024)),
  GOOGLE_REDIRECT_URI: unsetIfEmpty(z.string().url()),
  PUBLIC_BASE_URL: unsetIfEmpty(z.string().url()),
  GOOGLE_API_ROOT: unsetIfEmpty(z.string().url()),
  GOOGLE_OAUTH_ROOT: unsetIfEmpty(z.string().url()),
  GOOGLE_CALENDAR_ID: z.string().min(1).max(1024).default("primary"),
  TOKEN_ENCRYPTION_KEY: unsetIfEmpty(z.string().max(200)),
  TOKEN_ENCRYPTION_KEYS: unsetIfEmpty(z.string().max(10_000)),
  CALENDAR_SYNC_DAYS_BACK: z.coerce.number().int().min(0).max(3650).default(30),
  CALENDAR_SYNC_DAYS_AHEAD: z.coerce.number().int().min(1).max(3650).default(180),
  CALENDAR_FULL_RESYNC_DAYS: z.coerce.number().int().min(1).max(365).default(7),
  CALENDAR_POLL_MINUTES: z.coerce.number().int().min(1).max(1440).default(60),
  CALENDAR_CHANNEL_TTL_HOURS: z.coerce.number().int().min(1).max(720).default(168),
  CALENDAR_RENEW_BEFORE_HOURS: z.coerce.number().int().min(1).max(168).default(24),
  CALENDAR_TICK_BATCH: z.coerce.number().int().min(1).max(10_000).default(500),
  GOOGLE_STATE_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(600),
  EVENT_EVICT_AFTER_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 365)
    .default(24),
  // Semantic memory (README "Semantic memory"): lexical embedder and local index unless configured.
  EMBEDDER: z.enum(["auto", "openai", "lexical"]).default("auto"),
  EMBEDDING_MODEL: z.string().min(1).max(200).default("text-embedding-3-small"),
  EMBEDDING_DIMENSIONS: unsetIfEmpty(z.coerce.number().int().min(1).max(20_000)),
  EMBED_ELEMENTS: z
    .string()
    .default("preferences,goal,todo,event,feedback")
    .transform((s) =>
      s
        .split(",")
        .map((e) => e.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(["preferences", "goal", "todo", "event", "feedback"]))),
  EMBED_DEBOUNCE_MS: z.coerce.number().int().min(0).max(600_000).default(250),
  EMBED_BATCH_SIZE: z.coerce.number().int().min(1).max(2048).default(64),
  EMBED_BATCH_WINDOW_MS: z.coerce.number().int().min(0).max(10_000).default(20),
  EMBED_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  VECTOR_INDEX: z.enum(["auto", "local", "pinecone"]).default("auto"),
  PINECONE_API_KEY: unsetIfEmpty(z.string().min(1).max(4096)),
  PINECONE_INDEX: unsetIfEmpty(z.string().min(1).max(45)),
  PINECONE_HOST: unsetIfEmpty(z.string().min(1).max(2048)),
  RELEVANT_K: z.coerce.number().int().min(0).max(50).default(5),
  RELEVANT_MIN_SCORE: z.coerce.number().min(-1).max(1).default(0.1),
});

export type Config = z.infer<typeof EnvSchema>;

export class ConfigError extends Error {}

/** Parses the environment once; everything else receives the typed result. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const c = parsed.data;
  if (c.ADMIN_PASSWORD !== undefined && c.MEMORY_API_KEYS.includes(c.ADMIN_PASSWORD)) {
    throw new ConfigError("invalid configuration:\n  ADMIN_PASSWORD: must not be one of MEMORY_API_KEYS");
  }
  return c;
}
