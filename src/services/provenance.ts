import type { StoredDoc } from "../elements/stored.js";

/** Where an inferred value came from; kept per field on preferences, per item on goals and to-dos. */
export interface Provenance {
  inferred: true;
  source_text: string;
  confidence: number;
  at: string;
  engine: string;
}
export interface FieldProvenance extends Provenance {
  /** The values of the field that inference added (list fields keep explicit items too). */
  values: string[];
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function provenanceOf(doc: StoredDoc): Record<string, FieldProvenance> {
  const p = doc.data.provenance;
  return p && typeof p === "object" ? { ...(p as Record<string, FieldProvenance>) } : {};
}

/**
 * Inferred preference values, merged so that they never replace an explicit value: list
 * fields gain the new items (explicit items stay); a scalar is set only when unset or itself
 * inferred. Field sequence numbers are left alone, so any explicit write, earlier or later,
 * still applies over it. Returns false when nothing changed (replays are no-ops).
 */
export function applyInference(
  doc: StoredDoc,
  data: Record<string, unknown>,
  source: Omit<Provenance, "inferred" | "confidence"> & { confidence: Record<string, number> },
): boolean {
  const prov = provenanceOf(doc);
  let changed = false;
  for (const [field, value] of Object.entries(data)) {
    const meta = {
      inferred: true as const,
      source_text: source.source_text,
      at: source.at,
      engine: source.engine,
      confidence: source.confidence[field] ?? 0.5,
    };
    const cur = doc.data[field];
    if (Array.isArray(value)) {
      const list = Array.isArray(cur) ? (cur as string[]) : [];
      const add = (value as string[]).filter((v) => !list.some((c) => same(c, v)));
      if (!add.length) continue;
      doc.data[field] = [...list, ...add].slice(0, 100);
      prov[field] = { ...meta, values: [...(prov[field]?.values ?? []), ...add] };
      changed = true;
    } else if (typeof value === "string") {
      if (cur !== undefined && !prov[field]) continue; // explicit: never overwritten
      if (typeof cur === "string" && same(cur, value)) continue;
      doc.data[field] = value;
      prov[field] = { ...meta, values: [value] };
      changed = true;
    }
  }
  if (changed) doc.data.provenance = prov;
  return changed;
}

/** An explicit write of these fields makes them explicit: their inference record goes. */
export function dropProvenance(doc: StoredDoc, fields: Iterable<string>): void {
  if (doc.element !== "preferences") return;
  const prov = provenanceOf(doc);
  let changed = false;
  for (const f of fields) {
    if (f in prov) {
      delete prov[f];
      changed = true;
    }
  }
  if (!changed) return;
  if (Object.keys(prov).length) doc.data.provenance = prov;
  else delete doc.data.provenance;
}
