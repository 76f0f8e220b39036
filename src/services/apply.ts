import { isDeepStrictEqual } from "node:util";
import type { PersistPayload } from "../../queues/persist.js";
import { ELEMENTS } from "../elements/registry.js";
import { SELF, type StoredDoc } from "../elements/stored.js";
import { applyInference, dropProvenance } from "./provenance.js";

export type Applied = { kind: "write"; doc: StoredDoc } | { kind: "delete" } | { kind: "noop" };

function setFields(
  doc: StoredDoc,
  fields: Iterable<string>,
  values: Record<string, unknown>,
  seq: number,
): void {
  for (const f of fields) {
    if ((doc.fv[f] ?? 0) >= seq) continue; // a newer write already decided this field
    const v = values[f];
    if (v === undefined || v === null) delete doc.data[f];
    else doc.data[f] = v;
    doc.fv[f] = seq;
  }
}

function fresh(p: Exclude<PersistPayload, { op: "add_journal" }>, id: string, now: string): StoredDoc {
  const element = p.op === "add_feedback" ? "feedback_summary" : p.element;
  return {
    user_id: p.user_id,
    element,
    id,
    data: {},
    fv: {},
    seq: 0,
    rev: 0,
    created_at: now,
    updated_at: now,
  };
}

/**
 * Pure: the document after applying one write to the current one. Idempotent (a replay is
 * a no-op) and order-tolerant (field-level last-writer-wins by sequence number).
 */
export function applyWrite(cur: StoredDoc | undefined, p: PersistPayload, now: string): Applied {
  // Episodic records: handled by their own paths in the persist worker.
  if (p.op === "add_feedback" || p.op === "add_journal") return { kind: "noop" };
  const def = ELEMENTS[p.element];
  const id = def.kind === "singleton" ? SELF : ((p as { id?: string }).id ?? SELF);
  let next: StoredDoc;
  switch (p.op) {
    case "create": {
      if (cur) return { kind: "noop" };
      next = fresh(p, id, now);
      setFields(next, def.fields, { ...def.defaults, ...p.data }, p.seq);
      break;
    }
    case "put": {
      next = cur ? structuredClone(cur) : fresh(p, id, now);
      setFields(next, def.fields, p.data, p.seq);
      break;
    }
    case "patch": {
      if (!cur && def.kind === "collection") return { kind: "noop" }; // deleted or never created
      next = cur ? structuredClone(cur) : fresh(p, id, now);
      setFields(next, Object.keys(p.data), p.data, p.seq);
      dropProvenance(next, Object.keys(p.data));
      break;
    }
    case "append_progress": {
      if (!cur) return { kind: "noop" };
      const progress = Array.isArray(cur.data.progress)
        ? (cur.data.progress as { progress_id: string; at: string }[])
        : [];
      if (progress.some((e) => e.progress_id === p.entry.progress_id)) return { kind: "noop" };
      next = structuredClone(cur);
      next.data.progress = [...progress, p.entry].sort((a, b) => String(a.at).localeCompare(String(b.at)));
      break;
    }
    case "condense_progress": {
      // Only the entries the summarizer read are dropped: progress appended meanwhile stays.
      if (!cur) return { kind: "noop" };
      const progress = Array.isArray(cur.data.progress)
        ? (cur.data.progress as { progress_id: string }[])
        : [];
      const drop = new Set(p.drop);
      if (!progress.some((e) => drop.has(e.progress_id))) return { kind: "noop" };
      next = structuredClone(cur);
      next.data.progress = progress.filter((e) => !drop.has(e.progress_id));
      next.data.progress_summary = p.summary;
      next.fv.progress_summary = Math.max(next.fv.progress_summary ?? 0, p.seq);
      break;
    }
    case "infer": {
      next = cur ? structuredClone(cur) : fresh(p, id, now);
      if (!applyInference(next, p.data, p.provenance)) return { kind: "noop" };
      break;
    }
    case "delete":
      return cur ? { kind: "delete" } : { kind: "noop" };
  }
  if (cur && isDeepStrictEqual(cur.data, next.data) && isDeepStrictEqual(cur.fv, next.fv))
    return { kind: "noop" };
  next.seq = Math.max(cur?.seq ?? 0, p.seq);
  next.rev = (cur?.rev ?? 0) + 1;
  next.updated_at = now;
  if (next.element === "event") next.data.last_modified = now;
  return { kind: "write", doc: next };
}
