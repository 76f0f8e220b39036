import type { HotDoc } from "../repositories/redis-hot.js";
import { type DocElement, ELEMENTS } from "./registry.js";

/** A stored document as the API returns it (snake_case, id under its element's name). */
export function toWire(element: DocElement, doc: HotDoc): Record<string, unknown> {
  const def = ELEMENTS[element];
  if (def.kind === "collection" && def.idField) {
    return {
      [def.idField]: doc.id,
      ...doc.data,
      version: doc.rev,
      created_at: doc.created_at,
      updated_at: doc.updated_at,
    };
  }
  if (element === "state" || element === "feedback_summary") {
    return { ...doc.data, version: doc.rev, last_updated: doc.updated_at };
  }
  return { ...doc.data, version: doc.rev, updated_at: doc.updated_at };
}
