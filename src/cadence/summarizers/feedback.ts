import { FeedbackSummary } from "../../elements/feedback.js";
import type { StructuredModel } from "../llm.js";

export interface FeedbackItem {
  rating: number;
  tags?: string[];
  comments?: string;
  timestamp: string;
}

const KEEP = 20;
const LLM_ITEMS = 200;
const SUGGESTION_RE =
  /\b(should|could you|can you|please|would be (?:better|nicer|great|nice|helpful)|i wish|i'd (?:like|prefer)|i would (?:like|prefer)|prefer|next time|instead)\b/i;

const clip = (s: string) => (s.length > 300 ? `${s.slice(0, 299)}…` : s);
const isSuggestionTag = (t: string) => /^suggest/i.test(t);

function dedupe(items: string[]): string[] {
  const seen = new Set<string>();
  return items.filter((s) => {
    const k = s.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Tags counted over a set of ratings, most frequent first (ties by name, for determinism). */
function tagLines(items: FeedbackItem[], label: string): string[] {
  const counts = new Map<string, number>();
  for (const f of items) {
    for (const t of new Set((f.tags ?? []).map((x) => x.toLowerCase()))) {
      if (!isSuggestionTag(t)) counts.set(t, (counts.get(t) ?? 0) + 1);
    }
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([t, n]) => `${t} (${n} ${label} rating${n === 1 ? "" : "s"})`);
}

const comments = (items: FeedbackItem[]) =>
  items
    .map((f) => f.comments?.trim())
    .filter((c): c is string => !!c)
    .map(clip);

/**
 * Deterministic rebuild from every episodic record: tags aggregated over high (4-5) and low
 * (1-2) ratings, then the comments, newest first; suggestions are comments tagged
 * `suggestion*` or phrased as one ("could you", "I wish", "please", ...).
 */
export function rulesFeedbackSummary(records: FeedbackItem[]): FeedbackSummary {
  const newest = [...records].sort((a, b) => b.timestamp.localeCompare(a.timestamp));
  const high = newest.filter((f) => f.rating >= 4);
  const low = newest.filter((f) => f.rating <= 2);
  const suggestion = (f: FeedbackItem) =>
    (f.tags ?? []).some(isSuggestionTag) || SUGGESTION_RE.test(f.comments ?? "");
  return {
    positives: dedupe([...tagLines(high, "positive"), ...comments(high.filter((f) => !suggestion(f)))]).slice(
      0,
      KEEP,
    ),
    negatives: dedupe([...tagLines(low, "negative"), ...comments(low.filter((f) => !suggestion(f)))]).slice(
      0,
      KEEP,
    ),
    suggestions: dedupe(comments(newest.filter(suggestion))).slice(0, KEEP),
  };
}

export async function llmFeedbackSummary(
  model: StructuredModel,
  records: FeedbackItem[],
): Promise<FeedbackSummary> {
  const newest = [...records].sort((a, b) => b.timestamp.localeCompare(a.timestamp)).slice(0, LLM_ITEMS);
  return model.generate(
    FeedbackSummary,
    "feedback_summary",
    "You summarize how a user rates an AI companion's responses. From the ratings (1-5), tags and comments, return positives (what they like), negatives (what they dislike) and suggestions (what they ask to change): short phrases, at most 20 each, most important first. Never invent feedback.",
    JSON.stringify({
      total_ratings: records.length,
      tag_summary: {
        positive: tagLines(
          records.filter((f) => f.rating >= 4),
          "positive",
        ),
        negative: tagLines(
          records.filter((f) => f.rating <= 2),
          "negative",
        ),
      },
      feedback: newest.map((f) => ({ rating: f.rating, tags: f.tags, comment: f.comments, at: f.timestamp })),
    }),
  );
}
