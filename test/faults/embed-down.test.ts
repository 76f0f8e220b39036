import { afterEach, describe, expect, it, onTestFailed } from "vitest";
import { type Cluster, startCluster } from "../support/cluster.js";
import { type Acked, expectEmbedded, expectExactlyOnce } from "../support/exactly-once.js";
import { type OpenAiServer, startOpenAiServer } from "../support/openai-server.js";
import { type OutageProxy, startOutageProxy } from "../support/outage-proxy.js";
import { type FakePinecone, startFakePinecone } from "../support/pinecone-server.js";
import { until } from "../support/procs.js";

/**
 * The embedding server (OpenAI wire protocol) and then the vector index (Pinecone wire
 * protocol) taken down behind a proxy: writes answer exactly as before, context reads still
 * answer (without semantic hits), embed jobs retry, and once both are back every item has
 * exactly one vector of its current text.
 */
const U = "embed-user";

describe("fault: embedding server and vector index down", { timeout: 300_000 }, () => {
  let c: Cluster | undefined;
  let openai: OpenAiServer | undefined;
  let pinecone: FakePinecone | undefined;
  const proxies: OutageProxy[] = [];
  afterEach(async () => {
    await c?.cleanup();
    for (const p of proxies.splice(0)) await p.close();
    await openai?.close();
    await pinecone?.close();
    c = undefined;
  });

  it("writes unaffected; embeddings catch up afterwards", async () => {
    openai = await startOpenAiServer();
    pinecone = await startFakePinecone({ dimension: 8 });
    const embedder = await startOutageProxy(openai.url);
    const index = await startOutageProxy(pinecone.host);
    proxies.push(embedder, index);
    c = await startCluster({
      env: {
        OPENAI_API_KEY: "sk-local-test",
        OPENAI_BASE_URL: embedder.url,
        EMBEDDING_DIMENSIONS: "8",
        PINECONE_API_KEY: pinecone.apiKey,
        PINECONE_HOST: index.url,
      },
    });
    const cl = c;
    onTestFailed(() => console.log(cl.logs()));
    const goal = await c.call("POST", `/v1/users/${U}/goals`, { title: "Learn to sail" });
    expect(goal.status).toBe(201);
    const acked: Acked = { todos: [], goal: { id: goal.body.goal_id, notes: [] }, feedback: [] };
    let n = 0;
    const writes = async (count: number) => {
      for (let k = 0; k < count; k++) {
        const i = n++;
        // With wait: the write answers 201 once stored, whatever the semantic tier does.
        const r =
          i % 2 === 0
            ? await cl.call("POST", `/v1/users/${U}/todos`, { text: `buy sailing gear item ${i}` })
            : await cl.call("POST", `/v1/users/${U}/feedback`, {
                interaction_id: `embed-fb-${i}`,
                rating: 4,
                comments: `liked the sailing tip ${i}`,
              });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        if (i % 2 === 0) acked.todos.push(`buy sailing gear item ${i}`);
        else acked.feedback.push(`embed-fb-${i}`);
      }
    };
    const failingEmbeds = () =>
      until(
        "embed jobs failing and retrying",
        async () => (await cl.queue("embed").getDelayed()).some((j) => j.attemptsMade >= 1),
        60_000,
      );

    await writes(10);
    await c.drained(["embed"]);
    await expectEmbedded(c, U);

    await embedder.down();
    await writes(20);
    await failingEmbeds();
    const ctx = await c.call("GET", `/v1/users/${U}/context?query=${encodeURIComponent("sailing gear")}`);
    expect(ctx.status).toBe(200);
    expect(ctx.body.relevant_error).toMatch(/unavailable/);
    expect(ctx.body.sections.todos.length).toBeGreaterThan(0);
    const search = await c.call("GET", `/v1/users/${U}/search?q=sailing`);
    expect(search.status).toBe(503);
    await embedder.up();

    await index.down();
    await writes(20);
    await failingEmbeds();
    const ready = await fetch(`${c.base}/readyz`);
    expect(ready.status).toBe(503);
    expect((await ready.json()).down).toEqual(["vector_index"]);
    await index.up();

    await c.drained(["persist", "embed"], 180_000);
    for (const q of ["persist", "embed"]) expect(await c.queue(q).getJobCountByTypes("failed"), q).toBe(0);
    await expectExactlyOnce(c, U, acked);
    const vectors = await expectEmbedded(c, U);
    // Search finds a to-do written while the embedder was down (the test embedder hashes the
    // exact text, so the item's own embedded text is the query that scores 1).
    const q = encodeURIComponent("To-do: buy sailing gear item 12");
    const hit = await c.call("GET", `/v1/users/${U}/search?q=${q}&k=1`);
    expect(hit.status).toBe(200);
    expect(hit.body.hits[0].item.text).toBe("buy sailing gear item 12");
    console.log(`embed outage: ${n} writes all answered 201, ${vectors} vectors after catching up`);
  });
});
