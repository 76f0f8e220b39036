import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { QUEUE_NAMES, type QueueName } from "../../queues/names.js";

/**
 * Read handles on every queue in QUEUE_NAMES, for Bull Board and the depth gauges.
 * Built from the list, so a queue added to queues/names.ts shows up with no change here.
 */
export class OpsQueues {
  readonly byName: ReadonlyMap<QueueName, Queue>;

  constructor(connection: Redis, prefix: string, names: readonly QueueName[] = QUEUE_NAMES) {
    this.byName = new Map(
      names.map((n) => {
        const q = new Queue(n, { connection, prefix });
        q.on("error", () => {}); // the shared connection's own listener reports outages (connection-log.ts)
        return [n, q];
      }),
    );
  }

  get all(): Queue[] {
    return [...this.byName.values()];
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((q) => q.close()));
  }
}
