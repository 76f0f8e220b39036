import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LexicalEmbedder } from "../src/semantic/lexical-embedder.js";
import { LocalVectorIndex } from "../src/semantic/local-index.js";
import { startMemorySystem } from "./support/memory.js";
import { type OpenAiServer, startOpenAiServer } from "./support/openai-server.js";
import type { TestSystem } from "./support/system.js";

let ts: TestSystem;
let server: OpenAiServer;
const lexical = new LexicalEmbedder();
let index: LocalVectorIndex;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run reindex -- …` as a separate process against the test system's Redis, DynamoDB and DATA_DIR. */
function reindex(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const c = ts.config;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "scripts/reindex.ts", ...args],
      {
        cwd: process.cwd(),
        env: {
          PATH: process.env.PATH ?? "",
          REDIS_URL: c.REDIS_URL,
          DATA_DIR: c.DATA_DIR,
          KEY_PREFIX: c.KEY_PREFIX,
          QUEUE_PREFIX: c.QUEUE_PREFIX,
          DYNAMODB_TABLE: c.DYNAMODB_TABLE,
          DYNAMODB_ENDPOINT: ts.system.dynamoEndpoint ?? "",
          CADENCE_SCHEDULES: "off",
          CALENDAR_SCHEDULES: "off",
          LOG_LEVEL: "error",
          ...env,
        },
        timeout: 120_000,
      },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}
const summary = (r: Run) => JSON.parse(r.stdout.trim().split("\n").at(-1) as string);

beforeAll(async () => {
  server = await startOpenAiServer({
    embeddings: (inputs) => inputs.map((t) => new LexicalEmbedder(48).embed(t)),
  });
  // Only the persist worker: writes land in DynamoDB, nothing is embedded until reindex runs.
  ts = await startMemorySystem({ workers: ["persist"] });
  for (const u of ["ra", "rb", "rc"]) {
    await ts.api("PUT", `/v1/users/${u}/preferences`, {
      food_preferences: ["dumplings"],
      languages: ["Polish"],
    });
    await ts.api("POST", `/v1/users/${u}/goals`, { title: `Goal of ${u}` });
    await ts.api("POST", `/v1/users/${u}/feedback`, { interaction_id: "i", rating: 4, comments: "nice" });
  }
  index = new LocalVectorIndex(ts.config.DATA_DIR, lexical.identity, lexical.dimensions);
});
afterAll(async () => {
  await ts?.stop();
  await server?.close();
});

describe("npm run reindex", () => {
  it("--user embeds that user's documents and feedback comments only", async () => {
    const r = await reindex(["--user", "ra"]);
    expect(r.code, r.stderr).toBe(0);
    expect(summary(r)).toMatchObject({ users: 1, embedded: 4, unchanged: 0, deleted: 0, failed: [] });
    expect(r.stderr).toContain("1/1 users 100%");
    expect((await index.listIds("ra")).sort()).toEqual([
      expect.stringMatching(/^feedback:/),
      expect.stringMatching(/^goal:/),
      "preferences:food_preferences",
      "preferences:languages",
    ]);
    expect(await index.listIds("rb")).toEqual([]);
  });

  it("--all finds every user, skips unchanged texts and deletes vectors of items that are gone", async () => {
    await index.upsert("ra", [
      {
        id: "todo:ghost",
        values: lexical.embed("a deleted to-do"),
        metadata: { element: "todo", item_id: "ghost", text_hash: "x", updated_at: "2026-01-01T00:00:00Z" },
      },
    ]);
    const r = await reindex(["--all", "--concurrency", "2"]);
    expect(r.code, r.stderr).toBe(0);
    expect(summary(r)).toMatchObject({ users: 3, embedded: 8, unchanged: 4, deleted: 1, failed: [] });
    expect(r.stderr).toContain("3/3 users 100%");
    expect(await index.listIds("rc")).toHaveLength(4);
    expect(await index.listIds("ra")).not.toContain("todo:ghost");
  });

  it("a model change fills a new index identity and leaves the old one alone", async () => {
    const r = await reindex(["--all"], {
      OPENAI_BASE_URL: server.url,
      EMBEDDING_MODEL: "small-local",
      EMBEDDING_DIMENSIONS: "48",
    });
    expect(r.code, r.stderr).toBe(0);
    expect(summary(r)).toMatchObject({ embedder: "openai-small-local-48", users: 3, embedded: 12 });
    const other = new LocalVectorIndex(ts.config.DATA_DIR, "openai-small-local-48", 48);
    expect(await other.listIds("rb")).toHaveLength(4);
    expect(other.dir).not.toBe(index.dir);
    expect(await index.listIds("rb")).toHaveLength(4);
    expect(server.requests.filter((x) => x.path.endsWith("/embeddings")).length).toBeGreaterThan(0);
  });

  it("refuses bad arguments", async () => {
    const r = await reindex(["--user"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("usage: npm run reindex");
    expect((await reindex([])).code).toBe(2);
  });
});
