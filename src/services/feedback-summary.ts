import type { StoredDoc } from "../elements/stored.js";
import type { FeedbackRecord } from "../repositories/dynamo-store.js";

const KEEP = 20;
const clip = (s: string) => (s.length > 300 ? `${s.slice(0, 299)}…` : s);

/**
 * The design's immediate append: a rated comment goes into positives (4-5) or negatives
 * (1-2), a comment tagged "suggestion" into suggestions. The nightly summarizer rebuilds it.
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
  base.rev += 1;
  base.seq = Math.max(base.seq, f.seq);
  base.updated_at = now;
  return base;
}
