import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LexicalEmbedder } from "../src/semantic/lexical-embedder.js";
import { IndexIdentityError, LocalVectorIndex } from "../src/semantic/local-index.js";
import { PineconeVectorIndex } from "../src/semantic/pinecone-index.js";
import type { EmbedElement, VectorIndex, VectorRecord } from "../src/semantic/vector-index.js";
import { type FakePinecone, startFakePinecone } from "./support/pinecone-server.js";

const emb = new LexicalEmbedder(64);
const rec = (element: EmbedElement, item: string, text: string): VectorRecord => ({
  id: `${element}:${item}`,
  values: emb.embed(text),
  metadata: { element, item_id: item, text_hash: `h-${text.length}`, updated_at: "2026-01-01T00:00:00.000Z" },
});

/** The behaviour both implementations must share (same filter semantics, namespaces per user). */
function conformance(name: string, make: () => Promise<VectorIndex>) {
  describe(`${name} vector index`, () => {
    let index: VectorIndex;
    beforeAll(async () => {
      index = await make();
      await index.init();
      await index.upsert("alice", [
        rec("goal", "g1", "Goal: run a marathon in spring"),
        rec("todo", "t1", "To-do: buy running shoes"),
        rec("preferences", "food_preferences", "Food preferences: sushi and ramen"),
        rec("preferences", "hobby_preferences", "Hobbies: chess"),
        rec("feedback", "f1", "Feedback on a response: too long"),
      ]);
      await index.upsert("bob", [rec("goal", "g9", "Goal: run a marathon in autumn")]);
    });

    it("keeps one namespace per user", async () => {
      expect(await index.listIds("alice")).toEqual([
        "feedback:f1",
        "goal:g1",
        "preferences:food_preferences",
        "preferences:hobby_preferences",
        "todo:t1",
      ]);
      expect(await index.listIds("bob")).toEqual(["goal:g9"]);
      const hits = await index.query("alice", emb.embed("marathon"), { k: 10 });
      expect(hits.map((h) => h.id)).not.toContain("goal:g9");
    });

    it("lists by id prefix and fetches metadata of the ids that exist", async () => {
      expect(await index.listIds("alice", "preferences:")).toEqual([
        "preferences:food_preferences",
        "preferences:hobby_preferences",
      ]);
      const m = await index.fetch("alice", ["goal:g1", "goal:missing"]);
      expect([...m.keys()]).toEqual(["goal:g1"]);
      expect(m.get("goal:g1")).toEqual({
        element: "goal",
        item_id: "g1",
        text_hash: expect.any(String),
        updated_at: "2026-01-01T00:00:00.000Z",
      });
    });

    it("ranks by cosine and honours k", async () => {
      const hits = await index.query("alice", emb.embed("running a marathon"), { k: 2 });
      expect(hits).toHaveLength(2);
      expect(hits[0]?.id).toBe("goal:g1");
      expect(hits[0]?.score).toBeGreaterThan(hits[1]?.score ?? 1);
      expect(hits[0]?.score).toBeLessThanOrEqual(1.000001);
      expect(hits[0]?.metadata.element).toBe("goal");
    });

    it("filters on metadata with Pinecone's operators", async () => {
      const q = emb.embed("running marathon sushi chess");
      const ids = async (filter: object) =>
        (await index.query("alice", q, { k: 10, filter: filter as never })).map((h) => h.id).sort();
      expect(await ids({ element: { $in: ["todo", "feedback"] } })).toEqual(["feedback:f1", "todo:t1"]);
      expect(await ids({ element: "goal" })).toEqual(["goal:g1"]);
      expect(await ids({ element: { $eq: "goal" } })).toEqual(["goal:g1"]);
      expect(await ids({ element: { $nin: ["preferences", "feedback"] } })).toEqual(["goal:g1", "todo:t1"]);
      expect(
        await ids({ $and: [{ element: "preferences" }, { item_id: { $ne: "hobby_preferences" } }] }),
      ).toEqual(["preferences:food_preferences"]);
      expect(await ids({ $or: [{ item_id: "g1" }, { item_id: "t1" }] })).toEqual(["goal:g1", "todo:t1"]);
    });

    it("replaces a record on upsert and removes records on delete", async () => {
      await index.upsert("alice", [rec("todo", "t1", "To-do: call the plumber about the sink")]);
      const top = await index.query("alice", emb.embed("plumber sink"), { k: 1 });
      expect(top[0]?.id).toBe("todo:t1");
      await index.delete("alice", ["todo:t1", "feedback:f1"]);
      expect(await index.listIds("alice")).not.toContain("todo:t1");
      expect((await index.fetch("alice", ["todo:t1"])).size).toBe(0);
    });

    it("deleteUser empties only that user's namespace", async () => {
      await index.deleteUser("alice");
      expect(await index.listIds("alice")).toEqual([]);
      expect(await index.query("alice", emb.embed("marathon"), { k: 5 })).toEqual([]);
      expect(await index.listIds("bob")).toEqual(["goal:g9"]);
      await index.deleteUser("nobody"); // idempotent on an absent namespace
    });
  });
}

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "cm-vec-"));
  dirs.push(d);
  return d;
};
let pinecone: FakePinecone;
beforeAll(async () => {
  pinecone = await startFakePinecone({ dimension: 64 });
});
afterAll(async () => {
  await pinecone.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

conformance("local", async () => new LocalVectorIndex(tmp(), emb.identity, 64));
conformance(
  "Pinecone (protocol server)",
  async () =>
    new PineconeVectorIndex({ apiKey: pinecone.apiKey, host: pinecone.host, dimensions: 64, maxRetries: 0 }),
);

describe("local index on disk", () => {
  it("survives a restart: a new instance on the same DATA_DIR reads what the old one wrote", async () => {
    const dir = tmp();
    const a = new LocalVectorIndex(dir, emb.identity, 64);
    await a.init();
    await a.upsert("u1", [rec("goal", "g1", "Goal: learn Portuguese")]);
    const b = new LocalVectorIndex(dir, emb.identity, 64);
    await b.init();
    const hits = await b.query("u1", emb.embed("Portuguese lessons"), { k: 1 });
    expect(hits[0]?.id).toBe("goal:g1");
  });

  it("shares one index between processes: a reader picks up what another writer appended", async () => {
    const dir = tmp();
    const writer = new LocalVectorIndex(dir, emb.identity, 64);
    const reader = new LocalVectorIndex(dir, emb.identity, 64);
    await writer.init();
    expect(await reader.listIds("u1")).toEqual([]);
    await writer.upsert("u1", [rec("todo", "t1", "To-do: water the plants")]);
    expect(await reader.listIds("u1")).toEqual(["todo:t1"]);
    await writer.delete("u1", ["todo:t1"]);
    await writer.upsert("u1", [rec("todo", "t2", "To-do: repot the cactus")]);
    expect(await reader.listIds("u1")).toEqual(["todo:t2"]);
  });

  it("concurrent writers through separate instances lose no record (lock directory)", async () => {
    const dir = tmp();
    const a = new LocalVectorIndex(dir, emb.identity, 64);
    const b = new LocalVectorIndex(dir, emb.identity, 64);
    await a.init();
    const c = new LocalVectorIndex(dir, emb.identity, 64);
    // A reader polls while the writers append: interleaved tail reads must not apply bytes twice.
    let writing = true;
    const reader = (async () => {
      while (writing) await Promise.all([1, 2, 3].map(() => c.query("u1", emb.embed("task"), { k: 3 })));
    })();
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? a : b).upsert("u1", [rec("todo", `t${i}`, `To-do: task number ${i}`)]),
      ),
    );
    writing = false;
    await reader;
    expect(await c.listIds("u1")).toHaveLength(40);
    expect(await new LocalVectorIndex(dir, emb.identity, 64).listIds("u1")).toHaveLength(40);
  });

  it("compacts its log and ignores a torn last line", async () => {
    const dir = tmp();
    const idx = new LocalVectorIndex(dir, emb.identity, 64);
    await idx.init();
    for (let i = 0; i < 150; i++) await idx.upsert("u1", [rec("goal", "g1", `Goal: version ${i}`)]);
    const file = join(idx.dir, "u1.log");
    expect(readFileSync(file, "utf8").trim().split("\n").length).toBeLessThan(70);
    appendFileSync(file, '{"u":{"id":"goal:torn","m":'); // a crash in the middle of a write
    await idx.upsert("u1", [rec("goal", "g2", "Goal: after the crash")]);
    const fresh = new LocalVectorIndex(dir, emb.identity, 64);
    expect(await fresh.listIds("u1")).toEqual(["goal:g1", "goal:g2"]);
  });

  it("keeps each embedder identity apart and refuses a mismatched directory", async () => {
    const dir = tmp();
    const small = new LocalVectorIndex(dir, "lexical-v1-64", 64);
    const other = new LocalVectorIndex(dir, "openai-text-embedding-3-small-1536", 1536);
    await small.init();
    await other.init();
    await small.upsert("u1", [rec("goal", "g1", "Goal: a")]);
    expect(await other.listIds("u1")).toEqual([]);
    expect(small.dir).not.toBe(other.dir);
    const liar = new LocalVectorIndex(dir, "lexical-v1-64", 32);
    await expect(liar.init()).rejects.toBeInstanceOf(IndexIdentityError);
    await expect(
      small.upsert("u1", [{ ...rec("goal", "g2", "x"), values: [1, 2, 3] }]),
    ).rejects.toBeInstanceOf(IndexIdentityError);
  });
});

describe("Pinecone adapter on the wire", () => {
  it("sends namespace = user, id <element>:<item_id> and exactly the four metadata fields", async () => {
    const idx = new PineconeVectorIndex({ apiKey: pinecone.apiKey, host: pinecone.host, dimensions: 64 });
    const before = pinecone.requests.length;
    await idx.upsert("carol", [rec("goal", "g7", "Goal: climb Kilimanjaro")]);
    await idx.query("carol", emb.embed("climb"), { k: 3, filter: { element: { $in: ["goal", "todo"] } } });
    const [up, q] = pinecone.requests.slice(before);
    expect(up).toMatchObject({ method: "POST", path: "/vectors/upsert", namespace: "carol" });
    const v = ((up?.body?.vectors ?? []) as { id: string; metadata: object }[])[0];
    expect(v?.id).toBe("goal:g7");
    expect(Object.keys(v?.metadata ?? {}).sort()).toEqual(["element", "item_id", "text_hash", "updated_at"]);
    expect(q).toMatchObject({ method: "POST", path: "/query", namespace: "carol" });
    expect(q?.body).toMatchObject({
      topK: 3,
      includeMetadata: true,
      filter: { element: { $in: ["goal", "todo"] } },
    });
  });

  it("checks the index dimension at init and refuses a mismatch", async () => {
    const wrong = new PineconeVectorIndex({ apiKey: pinecone.apiKey, host: pinecone.host, dimensions: 1536 });
    await expect(wrong.init()).rejects.toBeInstanceOf(IndexIdentityError);
  });

  it("surfaces an outage as an error (the embed job retries it)", async () => {
    const idx = new PineconeVectorIndex({
      apiKey: pinecone.apiKey,
      host: pinecone.host,
      dimensions: 64,
      maxRetries: 0,
    });
    pinecone.failNext(1, 503);
    await expect(idx.upsert("carol", [rec("goal", "g8", "Goal: x")])).rejects.toThrow();
    await idx.upsert("carol", [rec("goal", "g8", "Goal: x")]);
    expect(await idx.listIds("carol", "goal:g8")).toEqual(["goal:g8"]);
  });

  it("pages through list results", async () => {
    const idx = new PineconeVectorIndex({ apiKey: pinecone.apiKey, host: pinecone.host, dimensions: 64 });
    await idx.upsert(
      "dave",
      Array.from({ length: 230 }, (_, i) => rec("todo", `t${String(i).padStart(3, "0")}`, `To-do: ${i}`)),
    );
    expect(await idx.listIds("dave")).toHaveLength(230);
    expect(pinecone.requests.filter((r) => r.path === "/vectors/list" && r.namespace === "dave").length).toBe(
      3,
    );
  });
});
