import { randomUUID } from "node:crypto";
import { Job, Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { PersistPayload } from "../queues/persist.js";
import { type System, startSystem } from "../src/app/system.js";
import { itemText, textHash } from "../src/semantic/documents.js";
import { LexicalEmbedder } from "../src/semantic/lexical-embedder.js";
import { followUpEmbed } from "../workers/embed-follow-up.js";
import { createPersistProcessor } from "../workers/persist.js";
import { embedQueueIdle, semanticOf, vectorMeta, waitFor } from "./semantic/helpers.js";
import { startMemorySystem } from "./support/memory.js";
import { type OpenAiServer, startOpenAiServer } from "./support/openai-server.js";
import type { TestSystem } from "./support/system.js";

const lexical = new LexicalEmbedder(64);
const IDENTITY = "openai-test-embed-64";

let server: OpenAiServer;
let failing = 0;
let ts: TestSystem;
const extra: System[] = [];

/** Texts the embedding server was asked for, per request. */
const embedCalls = () =>
  server.requests.filter((r) => r.path.endsWith("/embeddings")).map((r) => r.body.input as string[]);

beforeAll(async () => {
  server = await startOpenAiServer({
    embeddings: (inputs) => {
      if (failing > 0) {
        failing--;
        throw new Error("the embedding model is overloaded");
      }
      return inputs.map((t) => lexical.embed(t));
    },
  });
  // No embed worker here: each test starts one when it wants the queue drained.
  ts = await startMemorySystem({
    workers: ["persist"],
    env: {
      OPENAI_BASE_URL: server.url,
      EMBEDDING_MODEL: "test-embed",
      EMBEDDING_DIMENSIONS: "64",
      EMBED_DEBOUNCE_MS: "0",
      EMBED_BATCH_WINDOW_MS: "200",
      SUMMARIZER_ENGINE: "rules",
    },
  });
});
afterEach(async () => {
  for (const s of extra.splice(0)) await s.close();
});
afterAll(async () => {
  await ts?.stop();
  await server?.close();
});

/** An embed-only worker process on the same Redis, DynamoDB and DATA_DIR. */
async function startEmbedWorker(): Promise<System> {
  const s = await startSystem(
    { ...ts.config, DYNAMODB_ENDPOINT: ts.system.dynamoEndpoint, CADENCE_SCHEDULES: "off" },
    { api: false, workers: ["embed"], log: pino({ level: "silent" }) },
  );
  extra.push(s);
  return s;
}

async function pendingEmbedJobs(): Promise<number> {
  const q = ts.system.ops.queues.byName.get("embed") as Queue;
  const c = await q.getJobCounts("waiting", "delayed", "prioritized");
  return Object.values(c).reduce((a, b) => a + b, 0);
}

describe("embed queue", () => {
  it("uses OpenAIEmbeddings against the configured base URL (base64 on the wire)", () => {
    expect(semanticOf(ts).embedder.identity).toBe(IDENTITY);
  });

  it("a burst of edits to one item coalesces into one job that embeds only the latest text", async () => {
    const u = "q-burst";
    const g = await ts.api("POST", `/v1/users/${u}/goals`, { title: "Title v0" });
    expect(g.status).toBe(201);
    for (let i = 1; i <= 10; i++) {
      const p = await ts.api("PATCH", `/v1/users/${u}/goals/${g.body.goal_id}`, { title: `Title v${i}` });
      expect(p.status).toBe(200);
    }
    expect(await pendingEmbedJobs()).toBe(1);

    const before = embedCalls().length;
    await startEmbedWorker();
    const want = textHash(IDENTITY, itemText("goal", { title: "Title v10" }));
    await waitFor(
      async () => (await vectorMeta(ts, u, `goal:${g.body.goal_id}`))?.text_hash === want,
      "latest text",
    );
    await waitFor(() => embedQueueIdle(ts), "embed queue idle");
    const sent = embedCalls()
      .slice(before)
      .flat()
      .filter((t) => t.includes("Title v"));
    expect(sent).toEqual(["Goal: Title v10"]);
  });

  it("jobs waiting together are embedded in batches", async () => {
    const u = "q-batch";
    for (let i = 0; i < 24; i++) {
      const r = await ts.api("POST", `/v1/users/${u}/todos`, { text: `Errand number ${i}` });
      expect(r.status).toBe(201);
    }
    expect(await pendingEmbedJobs()).toBe(24);
    const before = embedCalls().length;
    await startEmbedWorker();
    await waitFor(async () => (await semanticOf(ts).index.listIds(u)).length === 24, "24 vectors");
    const calls = embedCalls()
      .slice(before)
      .filter((c) => c.some((t) => t.includes("Errand number")));
    const texts = calls.reduce((n, c) => n + c.length, 0);
    console.log(
      `batching: 24 waiting jobs -> ${calls.length} embedding calls (largest ${Math.max(...calls.map((c) => c.length))} texts)`,
    );
    expect(texts).toBe(24);
    expect(calls.length).toBeLessThan(24);
    expect(Math.max(...calls.map((c) => c.length))).toBeGreaterThan(1);
  });

  it("a failing embedding retries with backoff; the write is neither blocked nor rolled back", async () => {
    const u = "q-fail";
    await startEmbedWorker();
    failing = 4; // two attempts of the job (each tries twice inside the client), then it works
    const g = await ts.api("POST", `/v1/users/${u}/goals`, { title: "Plant a vegetable garden" });
    expect(g.status).toBe(201);
    expect((await ts.api("GET", `/v1/users/${u}/goals/${g.body.goal_id}`)).status).toBe(200);

    // While the embedding fails, the turn context still answers, without the semantic part.
    const ctx = await ts.api("GET", `/v1/users/${u}/context?query=garden`);
    expect(ctx.status).toBe(200);
    expect(ctx.body.sections.goals[0].title).toBe("Plant a vegetable garden");

    await waitFor(() => vectorMeta(ts, u, `goal:${g.body.goal_id}`), "vector after retries", 60_000);
    const q = ts.system.ops.queues.byName.get("embed") as Queue;
    // The vector is written before BullMQ moves the job to completed: wait for that too.
    const job = await waitFor(
      async () => (await q.getJobs(["completed"], 0, 1000)).find((j) => j.data.id === g.body.goal_id),
      "embed job completed",
      30_000,
    );
    expect(job.attemptsMade).toBeGreaterThan(1);
    expect(failing).toBe(0);
    const after = await ts.api("GET", `/v1/users/${u}/goals/${g.body.goal_id}`);
    expect(after.body.title).toBe("Plant a vegetable garden");
  }, 90_000);

  it("the turn context reports an unavailable semantic search instead of failing", async () => {
    const u = "q-down";
    await ts.api("POST", `/v1/users/${u}/todos`, { text: "Call the bank" });
    failing = 1000;
    try {
      const r = await ts.api("GET", `/v1/users/${u}/context?query=bank`);
      expect(r.status).toBe(200);
      expect(r.body.relevant_error).toMatch(/semantic search unavailable/);
      expect(r.body.relevant_error).not.toContain("overloaded");
      expect(r.body.sections.relevant).toEqual([]);
      expect(r.body.sections.todos[0].text).toBe("Call the bank");
      const s = await ts.api("GET", `/v1/users/${u}/search?q=bank`);
      expect(s.status).toBe(503);
      expect(s.body.error.code).toBe("unavailable");
    } finally {
      failing = 0;
    }
  }, 60_000);
});

describe("persist hook", () => {
  it("a failed enqueue costs the persist job one retry, never its success", async () => {
    const conn = new Redis(ts.config.REDIS_URL, { maxRetriesPerRequest: null });
    const prefix = `${ts.config.QUEUE_PREFIX}x`;
    const name = `persist-flaky-${randomUUID().slice(0, 8)}`;
    const queue = new Queue(name, { connection: conn, prefix });
    let enqueueCalls = 0;
    const embedded: unknown[] = [];
    const processor = createPersistProcessor({
      store: ts.system.deps.store,
      hot: ts.system.deps.hot,
      embed: async (ref) => {
        enqueueCalls++;
        if (enqueueCalls === 1) throw new Error("redis blinked");
        embedded.push(ref);
      },
    });
    const worker = new Worker(name, processor, { connection: conn.duplicate(), prefix });
    try {
      const payload: PersistPayload = {
        op: "create",
        element: "goal",
        user_id: "q-hook",
        id: "g1",
        seq: 1,
        data: { title: "Read more books" },
      };
      const job = await queue.add("persist", payload, { attempts: 5, backoff: { type: "fixed", delay: 50 } });
      const done = await waitFor(
        async () => {
          const j = await Job.fromId(queue, job.id as string);
          const state = await j?.getState();
          if (state === "failed") throw new Error(`persist job failed: ${j?.failedReason}`);
          return state === "completed" ? j : undefined;
        },
        "persist job completed",
        20_000,
      );
      expect(done?.attemptsMade).toBe(2);
      expect(done?.returnvalue).toMatchObject({ element: "goal", id: "g1" });
      expect(embedded).toEqual([{ user_id: "q-hook", element: "goal", id: "g1" }]);
      expect((await ts.system.deps.store.get("q-hook", "goal", "g1"))?.data.title).toBe("Read more books");
    } finally {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await conn.quit();
    }
  });

  it("on a later attempt an enqueue failure is only logged on the job", async () => {
    const logs: string[] = [];
    const job = {
      attemptsMade: 1,
      opts: { attempts: 8 },
      log: async (m: string) => void logs.push(m),
    } as unknown as Job;
    const p: PersistPayload = { op: "delete", element: "todo", user_id: "u", id: "t1", seq: 3 };
    await followUpEmbed(async () => Promise.reject(new Error("down")), job, p, {
      element: "todo",
      id: "t1",
      version: null,
      applied: true,
    });
    expect(logs).toEqual(["embed follow-up not enqueued: down"]);
    const first = { ...job, attemptsMade: 0, opts: { attempts: 8 } } as unknown as Job;
    await expect(
      followUpEmbed(async () => Promise.reject(new Error("down")), first, p, {
        element: "todo",
        id: "t1",
        version: null,
        applied: true,
      }),
    ).rejects.toThrow("down");
  });

  it("profile and state writes enqueue nothing; feedback without a comment enqueues nothing", async () => {
    const seen: unknown[] = [];
    const job = { attemptsMade: 0, opts: { attempts: 1 }, log: async () => {} } as unknown as Job;
    const r = { element: "x", id: "self", version: 1, applied: true };
    await followUpEmbed(
      async (ref) => void seen.push(ref),
      job,
      { op: "put", element: "profile", user_id: "u", seq: 1, data: {} },
      r,
    );
    await followUpEmbed(
      async (ref) => void seen.push(ref),
      job,
      { op: "patch", element: "state", user_id: "u", seq: 2, data: {} },
      r,
    );
    await followUpEmbed(
      async (ref) => void seen.push(ref),
      job,
      {
        op: "add_feedback",
        user_id: "u",
        id: "f1",
        seq: 3,
        data: { interaction_id: "i", rating: 4, timestamp: "2026-01-01T00:00:00Z" },
      },
      r,
    );
    await followUpEmbed(
      async (ref) => void seen.push(ref),
      job,
      { op: "patch", element: "preferences", user_id: "u", seq: 4, data: {} },
      r,
    );
    expect(seen).toEqual([{ user_id: "u", element: "preferences", id: "self" }]);
  });
});
