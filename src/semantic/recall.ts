import { SELF } from "../elements/stored.js";
import { toWire } from "../elements/wire.js";
import type { DynamoStore } from "../repositories/dynamo-store.js";
import type { HotDoc, UserSnapshot } from "../repositories/redis-hot.js";
import type { MemoryReader } from "../services/reader.js";
import { preferenceValue } from "./documents.js";
import type { EmbedElement, VectorHit } from "./vector-index.js";

export interface SemanticHit {
  element: EmbedElement;
  item_id: string;
  score: number;
  /** The current document (hot tier; feedback records from DynamoDB), never vector metadata. */
  item: Record<string, unknown>;
}

export interface HitSources {
  reader: MemoryReader;
  store: DynamoStore;
  /** A snapshot already read for this turn: hits found in it cost no further read. */
  snapshot?: UserSnapshot;
}

const round = (n: number) => Math.round(n * 10_000) / 10_000;

/**
 * Replaces each hit's metadata with the item as it is now (hot tier; DynamoDB for feedback and
 * past events). A hit whose item is gone (deleted, its embed job not yet run) is dropped
 * rather than shown stale.
 */
export async function resolveHits(user: string, hits: VectorHit[], src: HitSources): Promise<SemanticHit[]> {
  const inSnapshot = (element: "goal" | "todo" | "event", id: string): HotDoc | undefined =>
    src.snapshot?.[element].find((d) => d.id === id);
  const resolved = await Promise.all(
    hits.map(async (h): Promise<SemanticHit | undefined> => {
      const { element, item_id } = h.metadata;
      const base = { element, item_id, score: round(h.score) };
      if (element === "preferences") {
        const doc = src.snapshot?.singletons.preferences ?? (await src.reader.get(user, "preferences", SELF));
        const value = doc && preferenceValue(doc.data, item_id);
        return value === undefined ? undefined : { ...base, item: { field: item_id, value } };
      }
      if (element === "feedback") {
        const f = await src.store.getFeedback(user, h.metadata.updated_at, item_id);
        if (!f) return undefined;
        const { seq: _s, ...record } = f;
        return { ...base, item: record };
      }
      let doc: HotDoc | undefined =
        inSnapshot(element, item_id) ?? (await src.reader.get(user, element, item_id));
      // Events that ended a while ago leave the hot tier (EVENT_EVICT_AFTER_HOURS); DynamoDB keeps them.
      if (!doc && element === "event") doc = await src.store.get(user, "event", item_id);
      return doc ? { ...base, item: toWire(element, doc) } : undefined;
    }),
  );
  return resolved.filter((h): h is SemanticHit => h !== undefined);
}
