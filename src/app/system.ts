import type { Server } from "node:http";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import type { Worker } from "bullmq";
import type { Redis } from "ioredis";
import pino, { type Logger } from "pino";
import { EmbedQueue } from "../../queues/embed.js";
import { QUEUE_NAMES, type QueueName } from "../../queues/names.js";
import { PersistQueue } from "../../queues/persist-queue.js";
import { SCHEDULES } from "../../queues/schedules.js";
import { startWorker } from "../../workers/index.js";
import { reconcileSchedules } from "../cadence/schedulers.js";
import { createCadence } from "../cadence/services.js";
import { cadenceTier } from "../cadence/tier.js";
import type { Config } from "../config/config.js";
import { createCalendar } from "../google/services.js";
import { googleTier } from "../google/tier.js";
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
import { capped, closeRedis } from "../ops/close.js";
import { logConnection } from "../ops/connection-log.js";
import { createOpsApp, type Ops } from "../ops/http.js";
import { Metrics } from "../ops/metrics.js";
import { OpsQueues } from "../ops/queues.js";
import { Readiness } from "../ops/readiness.js";
import { DynamoStore } from "../repositories/dynamo-store.js";
import { RateLimiter } from "../repositories/rate-limiter.js";
import { HotStore } from "../repositories/redis-hot.js";
import { createSemantic } from "../semantic/service.js";
import { vectorTier } from "../semantic/tier.js";
import { dynamoTier, hotTier, queueTier } from "../services/core-tiers.js";
import { MemoryReader } from "../services/reader.js";
import type { UserTier } from "../services/user-tiers.js";

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
  /** The API's Express app (route enumeration in the auth-matrix test). */
  app?: import("express").Express;
  /** Metrics, readiness checks (add yours with `ops.readiness.add`), queue handles for Bull Board. */
  ops: Ops;
  /** Port of the OPS_PORT server (worker-only processes). */
  opsPort?: number;
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
    logConnection(redis, "commands", log);
    closers.push(() => closeRedis(redis));
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
    logConnection(blocking, "queue-events", log);
    closers.push(() => closeRedis(blocking));
    const persist = new PersistQueue(redis, blocking, config.QUEUE_PREFIX, config.WRITE_WAIT_MS);
    closers.push(capped("persist queue", () => persist.close(), 5000, log));
    await persist.ready();

    const opsQueues = new OpsQueues(redis, config.QUEUE_PREFIX);
    closers.push(() => opsQueues.close());
    const metrics = new Metrics();
    metrics.watchQueues(opsQueues, config.READY_TIMEOUT_MS);
    const readiness = new Readiness(config.READY_TIMEOUT_MS);
    readiness.add("redis", () => redis.ping());
    readiness.add("dynamodb", () => db.send(new DescribeTableCommand({ TableName: config.DYNAMODB_TABLE })));
    const ops: Ops = {
      metrics,
      readiness,
      queues: opsQueues,
      admin: { user: config.ADMIN_USER, password: config.ADMIN_PASSWORD, readOnly: config.ADMIN_READ_ONLY },
      metricsToken: config.METRICS_TOKEN,
    };

    // Export and erasure walk these in order: queues first, so no queued write lands after
    // the stores are erased. A new tier holding user data pushes itself here (`tiers.push`).
    const tiers: UserTier[] = [queueTier(opsQueues.all, redis), dynamoTier(store), hotTier(hot)];
    const limiter = new RateLimiter(redis, config.KEY_PREFIX, (u) => hot.base(u));
    const cadence = createCadence(config, { redis, db, hot, now });
    closers.push(() => cadence.close());
    tiers.push(cadenceTier(cadence));
    // Semantic memory (README "Semantic memory"): vectors are a tier of their own for export/erasure.
    const semantic = await createSemantic(config, store, log);
    closers.push(() => semantic.close());
    tiers.push(vectorTier(semantic.index, semantic.embedder.identity));
    readiness.add("vector_index", () => semantic.index.ping());
    const embedQueue = new EmbedQueue(redis, config.QUEUE_PREFIX, config.EMBED_DEBOUNCE_MS);
    closers.push(() => embedQueue.close());
    // Google Calendar and event eviction (README "Google Calendar"). Its tier goes before DynamoDB's:
    // erasure must stop channels and revoke the grant while the connection record still exists.
    const calendar = createCalendar(config, {
      redis,
      db,
      store,
      hot,
      now,
      log,
      onEventChange: (user, id) =>
        semantic.elements.includes("event")
          ? embedQueue.enqueue({ user_id: user, element: "event", id })
          : Promise.resolve(),
    });
    closers.push(() => calendar.close());
    const dynamoAt = tiers.findIndex((t) => t.name === "dynamodb");
    tiers.splice(dynamoAt < 0 ? tiers.length : dynamoAt, 0, googleTier(calendar));

    const deps: ApiDeps = {
      redisReady: () => redis.status === "ready",
      reader,
      hot,
      store,
      persist,
      now,
      metrics,
      tiers,
      limiter,
      cadence,
      semantic,
      calendar,
    };
    const workers: Worker[] = [];
    for (const name of opts.workers) {
      const conn = createBlockingRedis(config.REDIS_URL);
      logConnection(conn, `worker-${name}`, log);
      const w = startWorker(
        name,
        {
          ...{
            store,
            hot,
            now,
            reader,
            persist,
            cadence,
            userIndex: cadence.index,
            journal: cadence.journal,
          },
          semantic,
          calendar,
          embed: (ref) =>
            semantic.elements.includes(ref.element) ? embedQueue.enqueue(ref) : Promise.resolve(),
        },
        {
          connection: conn,
          prefix: config.QUEUE_PREFIX,
          // Embed jobs running together share one embedding call: more of them at once, bigger batches.
          concurrency: name === "embed" ? config.EMBED_CONCURRENCY : config.WORKER_CONCURRENCY,
          stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
          lockDurationMs: config.WORKER_LOCK_DURATION_MS,
        },
      );
      metrics.instrumentWorker(name, w, log);
      w.on("error", (err) => log.error({ queue: name, reason: err.message }, "worker error"));
      workers.push(w);
      // Closed first on shutdown: lets active jobs finish, then the connection goes.
      closers.push(async () => {
        await w.close();
        await closeRedis(conn);
      });
    }

    if (opts.workers.length > 0 && cadence.settings.schedules) {
      // Every worker process upserts the declared schedulers (README "Cadences"); idempotent.
      const r = await reconcileSchedules(redis, config.QUEUE_PREFIX, SCHEDULES, QUEUE_NAMES);
      log.info({ schedulers: r.upserted, removed: r.removed }, "job schedulers reconciled");
    }

    const system: System = { deps, workers, redis, dynamoEndpoint: endpoint, ops, close };
    if (!opts.api && config.OPS_PORT !== undefined) {
      const opsServer = await listen(createOpsApp(ops), config.OPS_PORT);
      closers.push(() => new Promise<void>((res) => opsServer.close(() => res())));
      const addr = opsServer.address();
      system.opsPort = typeof addr === "object" && addr ? addr.port : config.OPS_PORT;
    }
    if (opts.api) {
      const app = createApp(deps, {
        apiKeys: config.MEMORY_API_KEYS,
        jwtSecret: config.MEMORY_JWT_SECRET,
        rateLimits: { perKey: config.RATE_LIMIT_PER_KEY, perUser: config.RATE_LIMIT_PER_USER },
        log,
        ops,
      });
      system.app = app;
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

function listen(app: import("express").Express, port: number): Promise<Server> {
  return new Promise<Server>((res, rej) => {
    const s = app.listen(port, "0.0.0.0", (err?: Error) => (err ? rej(err) : res(s)));
  });
}

export { QUEUE_NAMES, StartupError };
