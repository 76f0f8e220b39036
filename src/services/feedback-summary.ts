import type { StoredDoc } from "../elements/stored.js";
import type { FeedbackRecord } from "../repositories/dynamo-store.js";

const KEEP = 20;
const clip = (s: string) => (s.length > 300 ? `${s.slice(0, 299)}…` : s);

/**
 * Which feedback records the summary has counted, kept in its `fv` map: DynamoDB holds `fv`
 * with the document, but the hot tier, the API (`toWire`), the export and the context block
 * never see it, and field writes (the nightly rebuild's `put`) carry these keys over unchanged.
 * `fv["~feedback:<feedback_id>"]` is the record's sequence number, for the newest
 * `KEEP_COUNTED` records (by sequence number); `fv["~feedback_floor"]` is the highest sequence
 * number dropped from that set. The keys cannot clash with a field name (fields never start with `~`).
 */
const COUNTED = "~feedback:";
const FLOOR = "~feedback_floor";
/** Far more feedback than one user sends while one persist job is still being retried. */
export const KEEP_COUNTED = 128;

/** The feedback ids the summary records as counted (newest `KEEP_COUNTED`). */
export function countedFeedback(summary: StoredDoc | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, seq] of Object.entries(summary?.fv ?? {}))
    if (k.startsWith(COUNTED)) out.set(k.slice(COUNTED.length), seq);
  return out;
}

/**
 * Whether `summary` already includes feedback record `f`. `recordIsNew`: this attempt wrote the
 * record (so no earlier attempt can have counted it). For a record that already existed (a
 * replayed job), one older than every id the bounded set still holds counts as included: it
 * fell out of the set because newer feedback was counted after it.
 */
export function summaryCounts(
  summary: StoredDoc | undefined,
  f: Pick<FeedbackRecord, "feedback_id" | "seq">,
  recordIsNew: boolean,
): boolean {
  if (!summary) return false;
  if (summary.fv[`${COUNTED}${f.feedback_id}`] !== undefined) return true;
  return !recordIsNew && f.seq <= (summary.fv[FLOOR] ?? 0);
}

/** Adds `f` to the counted set and keeps the set bounded (the dropped ones raise the floor). */
function markCounted(fv: Record<string, number>, f: Pick<FeedbackRecord, "feedback_id" | "seq">): void {
  fv[`${COUNTED}${f.feedback_id}`] = f.seq;
  const counted = Object.entries(fv)
    .filter(([k]) => k.startsWith(COUNTED))
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  for (const [k, seq] of counted.slice(KEEP_COUNTED)) {
    delete fv[k];
    fv[FLOOR] = Math.max(fv[FLOOR] ?? 0, seq);
  }
}

/**
 * The design's immediate append: a rated comment goes into positives (4-5) or negatives
 * (1-2), a comment tagged "suggestion" into suggestions. The nightly summarizer rebuilds it.
 * Each append is one revision and marks `f` as counted, in the same conditional write, so a
 * replayed job can tell whether its record is in the summary (`summaryCounts`).
 */
export function appendToSummary(
  cur: StoredDoc | undefined,
  user: string,
  f: FeedbackRecord,
  now: string,
): StoredDoc {
  const base: StoredDoc = cur
    ? structuredClone(cur)
    : {
        user_id: user,
        element: "feedback_summary",
        id: "self",
        data: {},
        fv: {},
        seq: 0,
        rev: 0,
        created_at: now,
        updated_at: now,
      };
  const lists = {
    positives: (base.data.positives as string[] | undefined) ?? [],
    negatives: (base.data.negatives as string[] | undefined) ?? [],
    suggestions: (base.data.suggestions as string[] | undefined) ?? [],
  };
  const text = f.comments?.trim();
  if (text) {
    const isSuggestion = f.tags?.some((t) => /^suggest/i.test(t));
    const target = isSuggestion
      ? "suggestions"
      : f.rating >= 4
        ? "positives"
        : f.rating <= 2
          ? "negatives"
          : undefined;
    if (target) lists[target] = [clip(text), ...lists[target].filter((x) => x !== clip(text))].slice(0, KEEP);
  }
  base.data = { ...base.data, ...lists };
  markCounted(base.fv, f);
  base.rev += 1;
  base.seq = Math.max(base.seq, f.seq);
  base.updated_at = now;
  return base;
}
