import type { CollectionName } from "../elements/registry.js";
import { ELEMENTS } from "../elements/registry.js";
import type { DynamoStore } from "../repositories/dynamo-store.js";
import type { HotDoc } from "../repositories/redis-hot.js";

const CAP = 1000;

/**
 * A collection range read from DynamoDB instead of the hot tier: for ranges reaching back past
 * the eviction horizon (past events leave Redis; DynamoDB keeps them). Same order and cap as
 * the hot tier's list; hidden documents (cancelled events) are left out as there.
 */
export async function listFromStore(
  store: DynamoStore,
  user: string,
  element: CollectionName,
  min: number | string,
  max: number | string,
): Promise<HotDoc[]> {
  const def = ELEMENTS[element];
  const lo = typeof min === "number" ? min : Number.NEGATIVE_INFINITY;
  const hi = typeof max === "number" ? max : Number.POSITIVE_INFINITY;
  return (await store.loadUser(user))
    .filter((d) => d.element === element && !def.hidden?.(d.data))
    .map((d) => ({ d, s: def.score?.(d.data) ?? 0 }))
    .filter((x) => x.s >= lo && x.s <= hi)
    .sort((a, b) => a.s - b.s || (a.d.id < b.d.id ? -1 : a.d.id > b.d.id ? 1 : 0))
    .slice(0, CAP)
    .map(({ d }) => ({
      id: d.id,
      rev: d.rev,
      data: d.data,
      created_at: d.created_at,
      updated_at: d.updated_at,
    }));
}
