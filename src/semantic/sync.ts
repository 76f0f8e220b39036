import { SELF, type StoredDoc } from "../elements/stored.js";
import type { DynamoStore } from "../repositories/dynamo-store.js";
import type { EmbedBatcher } from "./batcher.js";
import { type EmbedText, feedbackText, itemText, preferenceTexts, textHash } from "./documents.js";
import type { Embedder } from "./embedder.js";
import { type EmbedElement, type VectorIndex, type VectorRecord, vectorId } from "./vector-index.js";

/** One item to bring the index in line with; feedback also names its record's timestamp. */
export interface EmbedRef {
  user_id: string;
  element: EmbedElement;
  id: string;
  ts?: string;
}

export interface SyncResult {
  embedded: number;
  unchanged: number;
  deleted: number;
}

function docTexts(doc: StoredDoc): EmbedText[] {
  if (doc.element === "preferences") return preferenceTexts(doc.data, doc.updated_at);
  if (doc.element === "goal" || doc.element === "todo" || doc.element === "event") {
    return [
      {
        element: doc.element,
        item_id: doc.id,
        text: itemText(doc.element, doc.data),
        updated_at: doc.updated_at,
      },
    ];
  }
  return [];
}

/**
 * Makes the vector index match DynamoDB for one item (embed worker) or one user (reindex).
 * It always reads the current document, so a job that waited while the text changed embeds
 * the latest text, and a text whose hash is already in the index costs no embedding call.
 */
export class SemanticSync {
  constructor(
    private readonly store: DynamoStore,
    private readonly index: VectorIndex,
    private readonly embedder: Embedder,
    private readonly batcher: EmbedBatcher,
    private readonly enabled: ReadonlySet<EmbedElement>,
  ) {}

  private async current(ref: EmbedRef): Promise<EmbedText[]> {
    if (!this.enabled.has(ref.element)) return [];
    if (ref.element === "feedback") {
      if (!ref.ts) return [];
      const f = await this.store.getFeedback(ref.user_id, ref.ts, ref.id);
      const text = f && feedbackText(f);
      return text ? [{ element: "feedback", item_id: ref.id, text, updated_at: ref.ts }] : [];
    }
    const doc = await this.store.get(ref.user_id, ref.element, ref.element === "preferences" ? SELF : ref.id);
    return doc ? docTexts(doc) : [];
  }

  async sync(ref: EmbedRef): Promise<SyncResult> {
    const want = await this.current(ref);
    // Preferences hold one vector per field: list them to find fields that were removed.
    const existingIds =
      ref.element === "preferences"
        ? await this.index.listIds(ref.user_id, "preferences:")
        : [vectorId(ref.element, ref.id)];
    return this.reconcile(ref.user_id, want, existingIds);
  }

  /** Everything of one user: every document, every feedback comment (npm run reindex). */
  async syncUser(user: string): Promise<SyncResult> {
    const docs = await this.store.loadUser(user);
    const want = docs.flatMap(docTexts).filter((t) => this.enabled.has(t.element));
    if (this.enabled.has("feedback")) {
      for (const f of await this.store.allFeedback(user)) {
        const text = feedbackText(f);
        if (text) want.push({ element: "feedback", item_id: f.feedback_id, text, updated_at: f.timestamp });
      }
    }
    return this.reconcile(user, want, await this.index.listIds(user));
  }

  private async reconcile(user: string, want: EmbedText[], existingIds: string[]): Promise<SyncResult> {
    const wantIds = new Set(want.map((t) => vectorId(t.element, t.item_id)));
    const metas = await this.index.fetch(user, [...new Set([...wantIds, ...existingIds])]);
    const stale = [...metas.keys()].filter((id) => !wantIds.has(id));
    const todo = want
      .map((t) => ({ t, id: vectorId(t.element, t.item_id), hash: textHash(this.embedder.identity, t.text) }))
      .filter((x) => metas.get(x.id)?.text_hash !== x.hash);
    const records: VectorRecord[] = [];
    for (let i = 0; i < todo.length; i += 256) {
      const chunk = todo.slice(i, i + 256);
      const vectors = await this.batcher.embed(chunk.map((x) => x.t.text));
      chunk.forEach((x, j) => {
        records.push({
          id: x.id,
          values: vectors[j] as number[],
          metadata: {
            element: x.t.element,
            item_id: x.t.item_id,
            text_hash: x.hash,
            updated_at: x.t.updated_at,
          },
        });
      });
    }
    if (records.length) await this.index.upsert(user, records);
    if (stale.length) await this.index.delete(user, stale);
    return { embedded: records.length, unchanged: want.length - records.length, deleted: stale.length };
  }
}
