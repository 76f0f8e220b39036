import type { Logger } from "pino";
import type { System } from "./app/system.js";

/** SIGTERM/SIGINT: stop accepting, let active jobs finish, close connections, exit 0. */
export function runUntilSignal(system: System, log: Logger, graceMs = 30_000): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      log.error("shutdown took too long, exiting");
      process.exit(1);
    }, graceMs);
    force.unref();
    // Every worker stops taking jobs now (each still finishes the ones it runs); system.close()
    // then stops the server first and awaits these same closes before closing connections.
    for (const w of system.workers) w.close().catch(() => {});
    system.close().then(
      () => {
        log.info({ signal }, "stopped");
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
