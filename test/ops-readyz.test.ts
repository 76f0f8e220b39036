import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedDynamo, startEmbeddedDynamo } from "../src/infra/dynamo.js";
import { freePort, until } from "./support/ops.js";
import { startTestSystem, type TestSystem } from "./support/system.js";

/** A redis-server of this test's own, so stopping it disturbs nobody else. */
function startRedis(port: number, dir: string): ChildProcess {
  return spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    { stdio: "ignore" },
  );
}
const stopProcess = (p: ChildProcess) =>
  new Promise<void>((res) => {
    if (p.exitCode !== null || p.signalCode !== null) return res();
    p.once("exit", () => res());
    p.kill("SIGTERM");
  });

describe("GET /readyz", () => {
  const dir = mkdtempSync(join(tmpdir(), "cm-readyz-"));
  let redisPort: number;
  let redis: ChildProcess;
  let dynamo: EmbeddedDynamo;
  let dynamoPort: number;
  let t: TestSystem;

  const readyz = async () => {
    const r = await t.api("GET", "/readyz", undefined, { token: null });
    return {
      status: r.status,
      body: r.body as { status: string; down: string[]; checks: Record<string, any> },
    };
  };

  beforeAll(async () => {
    redisPort = await freePort();
    redis = startRedis(redisPort, dir);
    dynamo = await startEmbeddedDynamo(join(dir, "dyn"), 0);
    dynamoPort = Number(new URL(dynamo.endpoint).port);
    await until("own redis-server", async () => {
      const { Redis } = await import("ioredis");
      const c = new Redis(redisPort, "127.0.0.1", { lazyConnect: true, retryStrategy: () => null });
      c.on("error", () => {});
      try {
        await c.connect();
        return (await c.ping()) === "PONG";
      } finally {
        c.disconnect();
      }
    });
    t = await startTestSystem({
      env: { REDIS_URL: `redis://127.0.0.1:${redisPort}`, DYNAMODB_ENDPOINT: dynamo.endpoint },
      workers: [],
    });
  });
  afterAll(async () => {
    try {
      await t?.stop();
    } finally {
      await dynamo?.stop();
      if (redis) await stopProcess(redis);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is ready when Redis and DynamoDB answer", async () => {
    const r = await readyz();
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      status: "ready",
      down: [],
      checks: { redis: { status: "up" }, dynamodb: { status: "up" } },
    });
  });

  it("answers 503 naming DynamoDB while it is stopped, and recovers when it is back", async () => {
    await dynamo.stop();
    const down = await until("readyz 503", async () => {
      const r = await readyz();
      return r.status === 503 ? r : undefined;
    });
    expect(down.body.status).toBe("unavailable");
    expect(down.body.down).toEqual(["dynamodb"]);
    expect(down.body.checks.redis.status).toBe("up");
    expect(down.body.checks.dynamodb.error).toEqual(expect.any(String));
    expect((await t.api("GET", "/healthz", undefined, { token: null })).status).toBe(200);

    dynamo = await startEmbeddedDynamo(join(dir, "dyn"), dynamoPort);
    await until("readyz 200 again", async () => (await readyz()).status === 200);
  });

  it("answers 503 naming Redis while it is stopped, and recovers when it is back", async () => {
    await stopProcess(redis);
    const down = await until("readyz 503", async () => {
      const r = await readyz();
      return r.status === 503 ? r : undefined;
    });
    expect(down.body.down).toEqual(["redis"]);
    expect(down.body.checks.dynamodb.status).toBe("up");
    expect((await t.api("GET", "/healthz", undefined, { token: null })).status).toBe(200);

    redis = startRedis(redisPort, dir);
    await until("readyz 200 again", async () => (await readyz()).status === 200);
  });
});
