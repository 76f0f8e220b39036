import type { Logger } from "pino";
import { type Config, ConfigError } from "../config/config.js";
import type { DynamoStore } from "../repositories/dynamo-store.js";
import { EmbedBatcher } from "./batcher.js";
import { type Embedder, isZero } from "./embedder.js";
import { LexicalEmbedder } from "./lexical-embedder.js";
import { IndexIdentityError, LocalVectorIndex } from "./local-index.js";
import { dimensionsOf, OpenAIEmbedder } from "./openai-embedder.js";
import { PineconeVectorIndex } from "./pinecone-index.js";
import { SemanticSync } from "./sync.js";
import { type EmbedElement, elementFilter, type VectorHit, type VectorIndex } from "./vector-index.js";

export interface SearchOptions {
  k: number;
  elements?: readonly EmbedElement[];
  minScore?: number;
}

/** The semantic tier: embedder, vector index, the sync the embed worker runs, and search. */
export class Semantic {
  readonly sync: SemanticSync;
  readonly batcher: EmbedBatcher;
  /** Vector queries made (tests check the turn context makes at most one). */
  queries = 0;

  constructor(
    readonly embedder: Embedder,
    readonly index: VectorIndex,
    readonly elements: readonly EmbedElement[],
    store: DynamoStore,
    batch: { size: number; windowMs: number },
    /** Defaults of the context's `relevant` section (RELEVANT_K, RELEVANT_MIN_SCORE). */
    readonly recall: { k: number; minScore: number } = { k: 5, minScore: 0.1 },
  ) {
    this.batcher = new EmbedBatcher(embedder, batch.size, batch.windowMs);
    this.sync = new SemanticSync(store, index, embedder, this.batcher, new Set(elements));
  }

  /** One embedding of the query, one vector query. */
  async search(user: string, q: string, o: SearchOptions): Promise<VectorHit[]> {
    if (o.k <= 0) return [];
    const vector = await this.embedder.embedQuery(q);
    if (isZero(vector)) return [];
    this.queries++;
    const hits = await this.index.query(user, vector, { k: o.k, filter: elementFilter(o.elements) });
    return hits.filter((h) => h.score >= (o.minScore ?? Number.NEGATIVE_INFINITY));
  }

  async close(): Promise<void> {
    await this.index.close?.();
  }
}

export function createEmbedder(config: Config): Embedder {
  const useOpenAI =
    config.EMBEDDER === "openai" ||
    (config.EMBEDDER === "auto" &&
      (config.OPENAI_API_KEY !== undefined || config.OPENAI_BASE_URL !== undefined));
  if (!useOpenAI) return new LexicalEmbedder();
  if (!dimensionsOf(config.EMBEDDING_MODEL, config.EMBEDDING_DIMENSIONS)) {
    throw new ConfigError(
      `invalid configuration:\n  EMBEDDING_DIMENSIONS: must be set for ${config.EMBEDDING_MODEL}`,
    );
  }
  return new OpenAIEmbedder({
    apiKey: config.OPENAI_API_KEY,
    baseURL: config.OPENAI_BASE_URL,
    model: config.EMBEDDING_MODEL,
    dimensions: config.EMBEDDING_DIMENSIONS,
    timeoutMs: 30_000,
    // BullMQ retries the embed job with backoff; the turn context must not wait long either.
    maxRetries: 1,
  });
}

export function createVectorIndex(config: Config, embedder: Embedder): VectorIndex {
  const usePinecone =
    config.VECTOR_INDEX === "pinecone" ||
    (config.VECTOR_INDEX === "auto" && config.PINECONE_API_KEY !== undefined);
  if (!usePinecone) return new LocalVectorIndex(config.DATA_DIR, embedder.identity, embedder.dimensions);
  if (!config.PINECONE_API_KEY || !(config.PINECONE_INDEX || config.PINECONE_HOST)) {
    throw new ConfigError(
      "invalid configuration:\n  PINECONE_API_KEY and PINECONE_INDEX (or PINECONE_HOST) must be set",
    );
  }
  return new PineconeVectorIndex({
    apiKey: config.PINECONE_API_KEY,
    index: config.PINECONE_INDEX,
    host: config.PINECONE_HOST,
    dimensions: embedder.dimensions,
  });
}

export async function createSemantic(config: Config, store: DynamoStore, log: Logger): Promise<Semantic> {
  const embedder = createEmbedder(config);
  const index = createVectorIndex(config, embedder);
  try {
    await index.init();
  } catch (err) {
    // A model/dimension mismatch must stop the process; an unreachable index only degrades search (readiness says so).
    if (err instanceof IndexIdentityError) throw new ConfigError(`vector index: ${err.message}`);
    log.warn({ index: index.kind, reason: (err as Error).message }, "vector index not reachable at start");
  }
  log.info(
    { embedder: embedder.identity, kind: embedder.kind, index: index.kind, elements: config.EMBED_ELEMENTS },
    "semantic memory ready",
  );
  return new Semantic(
    embedder,
    index,
    config.EMBED_ELEMENTS,
    store,
    { size: config.EMBED_BATCH_SIZE, windowMs: config.EMBED_BATCH_WINDOW_MS },
    { k: config.RELEVANT_K, minScore: config.RELEVANT_MIN_SCORE },
  );
}
