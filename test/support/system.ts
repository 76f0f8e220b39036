import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino, { type Logger } from "pino";
import type { QueueName } from "../../queues/names.js";
import { QUEUE_NAMES, type System, startSystem } from "../../src/app/system.js";
import { type Config, loadConfig } from "../../src/config/config.js";

export const TEST_KEY = "test-service-key";

export interface TestSystem {
  url: string;
  system: System;
  config: Config;
  dataDir: string;
  /** JSON request with the service key unless `token` is given (null = no Authorization header). */
  api: (
    method: string,
    path: string,
    body?: unknown,
    opts?: { token?: string | null; headers?: Record<string, string>; raw?: string },
  ) => Promise<{ status: number; body: any; headers: Headers }>;
  stop: () => Promise<void>;
  /** Stops the processes but keeps DATA_DIR, table and prefixes, for restart tests. */
  restart: () => Promise<TestSystem>;
}

export interface TestOptions {
  env?: Record<string, string>;
  workers?: readonly QueueName[];
  api?: boolean;
  now?: () => Date;
  dataDir?: string;
  /** Logger for the system (default: silent); tests that inspect log lines pass their own. */
  log?: Logger;
}

/** A whole system on real Redis (own key and queue prefix) and its own dynalite under a temp DATA_DIR. */
export async function startTestSystem(opts: TestOptions = {}): Promise<TestSystem> {
  const id = randomBytes(4).toString("hex");
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "cm-test-"));
  const config = loadConfig({
    REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
    DATA_DIR: dataDir,
    MEMORY_API_KEYS: TEST_KEY,
    PORT: "0",
    DYNALITE_PORT: "0",
    KEY_PREFIX: `t${id}`,
    QUEUE_PREFIX: `tq${id}`,
    DYNAMODB_TABLE: `memory_${id}`,
    LOG_LEVEL: "silent",
    // Suites fire many requests per user; rate-limit tests turn the limits back on via `env`.
    RATE_LIMIT_PER_KEY: "0",
    RATE_LIMIT_PER_USER: "0",
    ...opts.env,
  });
  return boot(config, dataDir, opts);
}

async function boot(config: Config, dataDir: string, opts: TestOptions): Promise<TestSystem> {
  const system = await startSystem(config, {
    api: opts.api ?? true,
    workers: opts.workers ?? QUEUE_NAMES,
    log: opts.log ?? pino({ level: "silent" }),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const url = `http://127.0.0.1:${system.port ?? 0}`;
  const api: TestSystem["api"] = async (method, path, body, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token !== null) headers.authorization = `Bearer ${o.token ?? TEST_KEY}`;
    if (body !== undefined || o.raw !== undefined) headers["content-type"] ??= "application/json";
    const res = await fetch(`${url}${path}`, {
      method,
      headers,
      ...(o.raw !== undefined ? { body: o.raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: res.status, body: parsed, headers: res.headers };
  };
  const ts: TestSystem = {
    url,
    system,
    config,
    dataDir,
    api,
    stop: async () => {
      await system.close();
      await cleanupRedis(config);
      rmSync(dataDir, { recursive: true, force: true });
    },
    restart: async () => {
      await system.close();
      return boot(config, dataDir, opts);
    },
  };
  return ts;
}

async function cleanupRedis(config: Config): Promise<void> {
  const { Redis } = await import("ioredis");
  const r = new Redis(config.REDIS_URL);
  for (const prefix of [config.KEY_PREFIX, config.QUEUE_PREFIX]) {
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await r.unlink(...keys);
    } while (cursor !== "0");
  }
  await r.quit();
}
