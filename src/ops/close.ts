import type { Redis } from "ioredis";
import type { Logger } from "pino";

/**
 * QUIT when connected; otherwise drop the socket. A QUIT sent while ioredis is between
 * reconnect attempts waits for a connection that may never come, so shutdown would hang.
 */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === "ready") {
    await client.quit().catch(() => client.disconnect());
    return;
  }
  client.disconnect();
}

/**
 * Gives a part at most `ms` to close, then moves on so the rest still closes. BullMQ's
 * QueueEvents.close() waits for an `end` event that never comes when its connection is
 * mid-reconnect (e.g. after a Redis restart).
 */
export function capped(name: string, close: () => Promise<unknown>, ms: number, log: Logger) {
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((res) => {
      timer = setTimeout(() => {
        log.warn({ part: name, ms }, "gave up waiting for a part to close");
        res();
      }, ms);
    });
    try {
      await Promise.race([close(), gaveUp]);
    } finally {
      clearTimeout(timer);
    }
  };
}
