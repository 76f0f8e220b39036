import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((v) => v === "true" || v === "1");

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
  DYNAMODB_ENDPOINT: z.string().url().optional(),
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
  ALLOW_EVICTING_REDIS: bool,
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
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
  return parsed.data;
}
