import type { Server } from "node:http";
import type { Worker } from "bullmq";
import type { Redis } from "ioredis";
import pino, { type Logger } from "pino";
import { QUEUE_NAMES, type QueueName } from "../../queues/names.js";
import { PersistQueue } from "../../queues/persist-queue.js";
import { startWorker } from "../../workers/index.js";
import type { Config } from "../config/config.js";
import { createApp } from "../http/app.js";
import type { ApiDeps } from "../http/deps.js";
import { createDynamo, type EmbeddedDynamo, ensureTable, startEmbeddedDynamo } from "../infra/dynamo.js";
import {
  checkEvictionPolicy,
  createBlockingRedis,
  createRedis,
  type EmbeddedRedis,
  ensureRedis,
  StartupError,
} from "../infra/redis.js";
import { DynamoStore } from "../repositories/dynamo-store.js";
import { HotStore } from "../repositories/redis-hot.js";
import { MemoryReader } from "../services/reader.js";

export interface SystemOptions {
  api: boolean;
  workers: readonly QueueName[];
  log?: Logger;
  now?: () => Date;
}

export interface System {
  deps: ApiDeps;
  server?: Server;
  port?: number;
  workers: Worker[];
  redis: Redis;
  dynamoEndpoint?: string;
  close(): Promise<void>;
}

/** Wires every part from the parsed configuration; used by the processes and by the tests. */
export async function startSystem(config: Config, opts: SystemOptions): Promise<System> {
  const log = opts.log ?? pino({ level: config.LOG_LEVEL });
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };
  try {
    const embeddedRedis: EmbeddedRedis | undefined = await ensureRedis(config.REDIS_URL, config.DATA_DIR);
    if (embeddedRedis) {
      log.info("started redis-server under DATA_DIR");
      closers.push(() => embeddedRedis.stop());
    }
    const redis = createRedis(config.REDIS_URL);
    closers.push(() => redis.quit());
    await checkEvictionPolicy(redis, config.ALLOW_EVICTING_REDIS);

    let endpoint = config.DYNAMODB_ENDPOINT;
    if (!endpoint) {
      const dyn: EmbeddedDynamo = await startEmbeddedDynamo(config.DATA_DIR, config.DYNALITE_PORT);
      closers.push(() => dyn.stop());
      endpoint = dyn.endpoint;
      log.info({ endpoint }, "started embedded DynamoDB (dynalite) under DATA_DIR");
    }
    const db = createDynamo(endpoint, config.AWS_REGION);
    closers.push(async () => db.destroy());
    await ensureTable(db, config.DYNAMODB_TABLE);

    const hot = new HotStore(redis, config.KEY_PREFIX);
    const store = new DynamoStore(db, config.DYNAMODB_TABLE);
    const reader = new MemoryReader(hot, store);
    const now = opts.now ?? (() => new Date());

    const blocking = createBlockingRedis(config.REDIS_URL);
    closers.push(() => blocking.quit());
    const persist = new PersistQueue(redis, blocking, config.QUEUE_PREFIX, config.WRITE_WAIT_MS);
    closers.push(() => persist.close());
    await persist.ready();

    const deps: ApiDeps = { reader, hot, store, persist, now };
    const workers: Worker[] = [];
    for (const name of opts.workers) {
      const conn = createBlockingRedis(config.REDIS_URL);
      const w = startWorker(
        name,
        { store, hot, now },
        { connection: conn, prefix: config.QUEUE_PREFIX, concurrency: config.WORKER_CONCURRENCY },
      );
      w.on("failed", (job, err) =>
        log.warn(
          { queue: name, job_id: job?.id, attempts: job?.attemptsMade, reason: err.message },
          "job failed",
        ),
      );
      w.on("error", (err) => log.error({ queue: name, reason: err.message }, "worker error"));
      workers.push(w);
      // Closed first on shutdown: lets active jobs finish, then the connection goes.
      closers.push(async () => {
        await w.close();
        await conn.quit();
      });
    }

    const system: System = { deps, workers, redis, dynamoEndpoint: endpoint, close };
    if (opts.api) {
      const app = createApp(deps, { apiKeys: config.MEMORY_API_KEYS, log });
      const server = await new Promise<Server>((res, rej) => {
        const s = app.listen(config.PORT, "0.0.0.0", (err?: Error) => (err ? rej(err) : res(s)));
      });
      closers.push(
        () =>
          new Promise<void>((res) => {
            server.close(() => res());
            server.closeIdleConnections();
          }),
      );
      system.server = server;
      const addr = server.address();
      system.port = typeof addr === "object" && addr ? addr.port : config.PORT;
    }
    return system;
  } catch (err) {
    await close();
    throw err;
  }
}

export { QUEUE_NAMES, StartupError };
