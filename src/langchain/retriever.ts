import type { CallbackManagerForRetrieverRun } from "@langchain/core/callbacks/manager";
import { Document } from "@langchain/core/documents";
import { BaseRetriever, type BaseRetrieverInput } from "@langchain/core/retrievers";
import { renderHit } from "../semantic/context-relevant.js";
import type { EmbedElement } from "../semantic/vector-index.js";
import type { MemorySource } from "./source.js";

export interface MemoryRetrieverFields extends BaseRetrieverInput {
  source: MemorySource;
  userId: string;
  k?: number;
  elements?: readonly EmbedElement[];
}

/** A `BaseRetriever` over the semantic tier: each hit is a Document of its current item. */
export class MemoryRetriever extends BaseRetriever {
  lc_namespace = ["companion_memory", "retrievers"];
  private readonly f: MemoryRetrieverFields;

  constructor(fields: MemoryRetrieverFields) {
    super(fields);
    this.f = fields;
  }

  override async _getRelevantDocuments(
    query: string,
    _run?: CallbackManagerForRetrieverRun,
  ): Promise<Document[]> {
    const hits = await this.f.source.search(this.f.userId, query, {
      k: this.f.k ?? 5,
      ...(this.f.elements ? { elements: this.f.elements } : {}),
    });
    return hits.map(
      (h) =>
        new Document({
          pageContent: renderHit(h),
          metadata: { element: h.element, item_id: h.item_id, score: h.score, item: h.item },
          id: `${h.element}:${h.item_id}`,
        }),
    );
  }
}
