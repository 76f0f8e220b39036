import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { textHash } from "../src/semantic/documents.js";
import { LexicalEmbedder } from "../src/semantic/lexical-embedder.js";
import { LocalVectorIndex } from "../src/semantic/local-index.js";
import {
  type LabelledQuery,
  LEXICAL_QUERIES,
  MEMORIES,
  PARAPHRASE_QUERIES,
} from "./semantic/labelled-set.js";

/**
 * Retrieval quality of the default (lexical) embedder on a small labelled set, through the
 * real local index: recall@k = share of queries with a relevant item in the top k.
 */
const embedder = new LexicalEmbedder();
let dir: string;
let index: LocalVectorIndex;
const USER = "eval";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cm-eval-"));
  index = new LocalVectorIndex(dir, embedder.identity, embedder.dimensions);
  await index.init();
  const vectors = await embedder.embedDocuments(MEMORIES.map((m) => m.text));
  await index.upsert(
    USER,
    MEMORIES.map((m, i) => ({
      id: `${m.element}:${m.item_id}`,
      values: vectors[i] as number[],
      metadata: {
        element: m.element,
        item_id: m.item_id,
        text_hash: textHash(embedder.identity, m.text),
        updated_at: m.updated_at,
      },
    })),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function evaluate(queries: LabelledQuery[]) {
  const ranks: number[] = [];
  for (const q of queries) {
    const hits = await index.query(USER, await embedder.embedQuery(q.q), { k: MEMORIES.length });
    const rank = hits.findIndex((h) => q.relevant.includes(h.id));
    ranks.push(rank < 0 ? Number.POSITIVE_INFINITY : rank + 1);
  }
  const recall = (k: number) => ranks.filter((r) => r <= k).length / ranks.length;
  const mrr = ranks.reduce((s, r) => s + (Number.isFinite(r) ? 1 / r : 0), 0) / ranks.length;
  return { n: queries.length, recall1: recall(1), recall3: recall(3), recall5: recall(5), mrr };
}

const fmt = (m: Awaited<ReturnType<typeof evaluate>>) =>
  `n=${m.n} recall@1=${m.recall1.toFixed(2)} recall@3=${m.recall3.toFixed(2)} recall@5=${m.recall5.toFixed(2)} MRR=${m.mrr.toFixed(2)}`;

describe(`retrieval quality of ${embedder.identity} (${MEMORIES.length} memories)`, () => {
  it("the food preference is the top hit for 'what food do I enjoy?'", async () => {
    const hits = await index.query(USER, await embedder.embedQuery("what food do I enjoy?"), { k: 3 });
    expect(hits[0]?.id).toBe("preferences:food_preferences");
  });

  it("finds what shares words or word forms with the question (recall@3 >= 0.9)", async () => {
    const m = await evaluate(LEXICAL_QUERIES);
    console.log(`lexical queries:    ${fmt(m)}`);
    expect(m.recall3).toBeGreaterThanOrEqual(0.9);
    expect(m.recall1).toBeGreaterThanOrEqual(0.8);
  });

  it("does not understand paraphrases: meaning without shared words is mostly missed", async () => {
    const m = await evaluate(PARAPHRASE_QUERIES);
    console.log(`paraphrase queries: ${fmt(m)}`);
    // The honest limit, stated in the README: a model embedder (OPENAI_*) is needed for these.
    expect(m.recall1).toBeLessThan(0.5);
  });
});
