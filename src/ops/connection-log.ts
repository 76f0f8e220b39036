import type { EventEmitter } from "node:events";
import type { Logger } from "pino";

/**
 * One structured line when a Redis connection drops and one when it is back, instead of
 * ioredis printing an unhandled error to stderr on every reconnect attempt.
 */
export function logConnection(client: EventEmitter, name: string, log: Logger): void {
  let down = false;
  client.on("error", (err: Error) => {
    if (down) return;
    down = true;
    log.warn({ connection: name, reason: err.message }, "redis connection lost");
  });
  client.on("ready", () => {
    if (!down) return;
    down = false;
    log.info({ connection: name }, "redis connection back");
  });
}
