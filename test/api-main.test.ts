import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, until } from "./support/ops.js";
import { startTestSystem, type TestSystem } from "./support/system.js";

const ROOT = join(import.meta.dirname, "..");
const KEY = "procfile-web-key";

/**
 * The Procfile's split: `web` (src/api-main.ts, the API alone) in a child process, and the
 * workers in another process (here the test system, started without an API) sharing Redis and
 * DynamoDB, as the Procfile requires (`REDIS_URL`, `DYNAMODB_ENDPOINT`).
 */
describe("Procfile web: src/api-main.ts", () => {
  let workers: TestSystem;
  let base: string;
  let log = "";
  let exited: Promise<number | null>;
  let child: ReturnType<typeof spawn>;

  beforeAll(async () => {
    workers = await startTestSystem({ api: false });
    const c = workers.config;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn("node", ["--import", "tsx", "src/api-main.ts"], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        REDIS_URL: c.REDIS_URL,
        DYNAMODB_ENDPOINT: workers.system.dynamoEndpoint ?? "",
        DYNAMODB_TABLE: c.DYNAMODB_TABLE,
        KEY_PREFIX: c.KEY_PREFIX,
        QUEUE_PREFIX: c.QUEUE_PREFIX,
        DATA_DIR: workers.dataDir,
        MEMORY_API_KEYS: KEY,
        PORT: String(port),
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (d) => {
      log += String(d);
    });
    child.stderr?.on("data", (d) => {
      log += String(d);
    });
    exited = new Promise((res) => child.once("exit", (code) => res(code)));
    await until(
      "the API process to answer /healthz",
      async () => (await fetch(`${base}/healthz`)).ok,
      90_000,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\n${log}`);
    });
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await workers?.stop();
  });

  it("serves the API and adds no worker to the queues", async () => {
    expect(log).toContain("no workers in this process");
    // Only the test system's persist worker is connected.
    expect(await workers.system.deps.persist.queue.getWorkersCount()).toBe(1);
  });

  it("answers a write with the stored document, applied by the worker in the other process", async () => {
    const res = await fetch(`${base}/v1/users/web-user/profile`, {
      method: "PUT",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "Ada", timezone: "Europe/London" }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: "Ada", timezone: "Europe/London", version: 1 });
    const job = await workers.system.deps.persist.queue.getCompleted();
    expect(job.map((j) => j.data.user_id)).toContain("web-user");
    const stored = await workers.system.deps.store.get("web-user", "profile");
    expect(stored?.data).toEqual({ name: "Ada", timezone: "Europe/London" });
  });

  it("refuses to start without MEMORY_API_KEYS", async () => {
    const p = spawn("node", ["--import", "tsx", "src/api-main.ts"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", MEMORY_API_KEYS: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    p.stderr?.on("data", (d) => {
      err += String(d);
    });
    const code = await new Promise((res) => p.once("exit", res));
    expect(code).toBe(1);
    expect(err).toContain("MEMORY_API_KEYS is empty");
  });

  it("exits 0 on SIGTERM", async () => {
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
