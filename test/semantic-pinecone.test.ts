import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { embedQueueIdle, semanticOf, waitFor } from "./semantic/helpers.js";
import { startMemorySystem } from "./support/memory.js";
import { type FakePinecone, startFakePinecone } from "./support/pinecone-server.js";
import type { TestSystem } from "./support/system.js";

/**
 * The whole system on the Pinecone adapter, against a local server speaking Pinecone's
 * data-plane protocol (no Pinecone can run here).
 */
let pc: FakePinecone;
let ts: TestSystem;
const U = "pc-user";

beforeAll(async () => {
  pc = await startFakePinecone({ dimension: 1024 });
  ts = await startMemorySystem({
    env: { PINECONE_API_KEY: pc.apiKey, PINECONE_HOST: pc.host, EMBED_DEBOUNCE_MS: "0" },
  });
});
afterAll(async () => {
  await ts?.stop();
  await pc?.close();
});

const ns = () => pc.namespaces.get(U) ?? new Map();

describe("Pinecone vector index", () => {
  let goalId = "";

  it("is chosen when PINECONE_API_KEY is set and checks the index at start", () => {
    expect(semanticOf(ts).index.kind).toBe("pinecone");
    expect(pc.requests.some((r) => r.path === "/describe_index_stats")).toBe(true);
  });

  it("upserts into the user's namespace with id <element>:<item_id> and the four metadata fields", async () => {
    const g = await ts.api("POST", `/v1/users/${U}/goals`, { title: "Visit Kyoto in spring" });
    goalId = g.body.goal_id;
    await ts.api("PUT", `/v1/users/${U}/preferences`, { travel_styles: ["slow travel by train"] });
    await waitFor(() => ns().size === 2, "two records in the namespace");
    const rec = ns().get(`goal:${goalId}`);
    expect(rec?.metadata).toEqual({
      element: "goal",
      item_id: goalId,
      text_hash: expect.stringMatching(/^[0-9a-f]{32}$/),
      updated_at: expect.any(String),
    });
    expect(ns().has("preferences:travel_styles")).toBe(true);
    expect(rec?.values).toHaveLength(1024);
  });

  it("search queries the namespace with the element filter and answers with current documents", async () => {
    const before = pc.requests.length;
    const r = await ts.api(
      "GET",
      `/v1/users/${U}/search?q=${encodeURIComponent("trip to Kyoto")}&elements=goals`,
    );
    expect(r.status).toBe(200);
    expect(r.body.hits[0]).toMatchObject({
      element: "goal",
      item_id: goalId,
      item: { title: "Visit Kyoto in spring" },
    });
    const q = pc.requests.slice(before).filter((x) => x.path === "/query");
    expect(q).toHaveLength(1);
    expect(q[0]?.namespace).toBe(U);
    expect(q[0]?.body?.filter).toEqual({ element: { $in: ["goal"] } });
  });

  it("the turn context makes exactly one vector query", async () => {
    const before = pc.requests.length;
    const r = await ts.api(
      "GET",
      `/v1/users/${U}/context?query=${encodeURIComponent("any train travel ideas?")}`,
    );
    expect(r.status).toBe(200);
    expect(pc.requests.slice(before).filter((x) => x.path === "/query")).toHaveLength(1);
  });

  it("an unchanged text is not upserted again; a delete removes the record", async () => {
    await waitFor(() => embedQueueIdle(ts), "embed queue idle");
    const before = pc.requests.length;
    await ts.api("PATCH", `/v1/users/${U}/goals/${goalId}`, { priority: 1 });
    await waitFor(
      () => pc.requests.slice(before).some((x) => x.path === "/vectors/fetch"),
      "the embed job compared hashes",
    );
    await waitFor(() => embedQueueIdle(ts), "embed queue idle");
    expect(pc.requests.slice(before).filter((x) => x.path === "/vectors/upsert")).toHaveLength(0);

    await ts.api("DELETE", `/v1/users/${U}/goals/${goalId}`);
    await waitFor(() => !ns().has(`goal:${goalId}`), "record deleted");
  });

  it("erasure empties the user's namespace", async () => {
    const r = await ts.api("DELETE", `/v1/users/${U}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.remaining.vectors).toBe(0);
    expect(ns().size).toBe(0);
  });

  it("readiness reports the vector index", async () => {
    const r = await fetch(`${ts.url}/readyz`);
    const body = (await r.json()) as { checks: Record<string, { status: string }> };
    expect(body.checks.vector_index?.status).toBe("up");
  });
});
