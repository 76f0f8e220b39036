import { OpenAIEmbeddings } from "@langchain/openai";
import type { Embedder } from "./embedder.js";

const KNOWN_DIMENSIONS: Record<string, number> = {
  "text-embedding-3-small": 1536,
  "text-embedding-3-large": 3072,
  "text-embedding-ada-002": 1536,
};

export interface OpenAIEmbedderOptions {
  apiKey?: string;
  baseURL?: string;
  model: string;
  dimensions?: number;
  timeoutMs: number;
  maxRetries: number;
}

export function dimensionsOf(model: string, configured?: number): number | undefined {
  return configured ?? KNOWN_DIMENSIONS[model];
}

/** `OpenAIEmbeddings` from @langchain/openai against OpenAI or any compatible server. */
export class OpenAIEmbedder implements Embedder {
  readonly kind = "model" as const;
  readonly identity: string;
  readonly dimensions: number;
  private readonly client: OpenAIEmbeddings;

  constructor(o: OpenAIEmbedderOptions) {
    const dims = dimensionsOf(o.model, o.dimensions);
    if (!dims) throw new Error(`EMBEDDING_DIMENSIONS must be set for the model ${o.model}`);
    this.dimensions = dims;
    this.identity = `openai-${o.model}-${dims}`;
    this.client = new OpenAIEmbeddings({
      model: o.model,
      // Compatible local servers accept any key; the client library insists on one.
      apiKey: o.apiKey ?? "unused",
      timeout: o.timeoutMs,
      maxRetries: o.maxRetries,
      // Only the text-embedding-3 family accepts a shortened output.
      ...(o.dimensions && o.model.startsWith("text-embedding-3") ? { dimensions: o.dimensions } : {}),
      ...(o.baseURL ? { configuration: { baseURL: o.baseURL } } : {}),
    });
  }

  private check(vectors: number[][]): number[][] {
    for (const v of vectors) {
      if (v.length !== this.dimensions) {
        throw new Error(`the embedding server answered ${v.length} dimensions, expected ${this.dimensions}`);
      }
    }
    return vectors;
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    return this.check(await this.client.embedDocuments(texts));
  }

  async embedQuery(text: string): Promise<number[]> {
    return this.check([await this.client.embedQuery(text)])[0] as number[];
  }
}
