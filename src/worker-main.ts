import type { QueueName } from "../queues/names.js";
import { QUEUE_NAMES, startSystem } from "./app/system.js";
import { ConfigError, loadConfig } from "./config/config.js";
import { StartupError } from "./infra/redis.js";
import { createLogger } from "./ops/log.js";
import { runUntilSignal } from "./process.js";

/** `npm run worker -- persist [more queues]`: workers only (all queues when none is named). */
try {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL);
  const asked = process.argv.slice(2);
  const unknown = asked.filter((q) => !QUEUE_NAMES.includes(q as QueueName));
  if (unknown.length)
    throw new ConfigError(`unknown queue(s): ${unknown.join(", ")}; known: ${QUEUE_NAMES.join(", ")}`);
  const queues = asked.length ? (asked as QueueName[]) : QUEUE_NAMES;
  const system = await startSystem(config, { api: false, workers: queues, log });
  log.info(
    { workers: queues, concurrency: config.WORKER_CONCURRENCY, ops_port: system.opsPort },
    "workers are up",
  );
  runUntilSignal(system, log, config.SHUTDOWN_GRACE_MS);
} catch (err) {
  if (err instanceof ConfigError || err instanceof StartupError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
