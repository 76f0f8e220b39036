import { QUEUE_NAMES, startSystem } from "./app/system.js";
import { ConfigError, loadConfig } from "./config/config.js";
import { StartupError } from "./infra/redis.js";
import { createLogger } from "./ops/log.js";
import { runUntilSignal } from "./process.js";

/** `npm start`: the API and every worker in one process, on the embedded default unless configured. */
try {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL);
  if (config.MEMORY_API_KEYS.length === 0) {
    throw new ConfigError("MEMORY_API_KEYS is empty: set at least one service key (comma-separated)");
  }
  const system = await startSystem(config, { api: true, workers: QUEUE_NAMES, log });
  log.info({ port: system.port, workers: QUEUE_NAMES }, "companion memory is up");
  runUntilSignal(system, log, config.SHUTDOWN_GRACE_MS);
} catch (err) {
  if (err instanceof ConfigError || err instanceof StartupError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
