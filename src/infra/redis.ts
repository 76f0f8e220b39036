import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { Redis, type RedisOptions } from "ioredis";

export class StartupError extends Error {}

/** Connection for commands (fails fast while Redis is down so the API can answer 503). */
export function createRedis(url: string, opts: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false, ...opts });
}

/** BullMQ workers and QueueEvents need blocking connections that retry forever. */
export function createBlockingRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: false });
}

async function ping(url: string): Promise<boolean> {
  const r = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  r.on("error", () => {});
  try {
    await r.connect();
    await r.ping();
    return true;
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

function onPath(bin: string): boolean {
  return (process.env.PATH ?? "").split(":").some((d) => d !== "" && existsSync(resolve(d, bin)));
}

export interface EmbeddedRedis {
  stop(): Promise<void>;
}

/**
 * Makes sure a Redis answers at `url`. When none does and the URL is local, starts
 * `redis-server` with AOF under dataDir so a restart keeps queued jobs and the hot tier.
 */
export async function ensureRedis(url: string, dataDir: string): Promise<EmbeddedRedis | undefined> {
  if (await ping(url)) return undefined;
  const u = new URL(url);
  const local = ["127.0.0.1", "localhost", "::1", "[::1]"].includes(u.hostname);
  if (!local || !onPath("redis-server")) {
    throw new StartupError(
      `No Redis answers at ${u.protocol}//${u.host}. Install Redis 7 (Debian/Ubuntu: apt install redis-server; macOS: brew install redis) ` +
        "so the app can start it, or set REDIS_URL to a running Redis.",
    );
  }
  const dir = resolve(dataDir, "redis");
  mkdirSync(dir, { recursive: true });
  const port = u.port || "6379";
  const child = spawn(
    "redis-server",
    [
      "--port",
      port,
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--save",
      "",
      "--maxmemory-policy",
      "noeviction",
    ],
    { stdio: "ignore" },
  );
  for (let i = 0; i < 100; i++) {
    if (await ping(url)) {
      return {
        stop: () =>
          new Promise<void>((res) => {
            if (child.exitCode !== null) return res();
            child.once("exit", () => res());
            child.kill("SIGTERM");
          }),
      };
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new StartupError(`redis-server did not start on port ${port}`);
}

/** BullMQ is only correct when Redis never evicts keys. */
export async function checkEvictionPolicy(redis: Redis, allowEvicting: boolean): Promise<void> {
  const res = (await redis.config("GET", "maxmemory-policy")) as string[];
  const policy = res[1] ?? "unknown";
  if (policy !== "noeviction" && !allowEvicting) {
    throw new StartupError(
      `Redis maxmemory-policy is "${policy}"; queues need "noeviction" (set it with CONFIG SET maxmemory-policy noeviction, or ALLOW_EVICTING_REDIS=true to run anyway)`,
    );
  }
}
