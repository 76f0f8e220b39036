import { z } from "zod";
import type { ProgressEntry } from "../../elements/goal.js";
import type { StructuredModel } from "../llm.js";

export const SUMMARY_MAX = 1000;
const SEP = " | ";

/** Entries older than `cutoffMs` are condensed; the rest stay as they are. */
export function splitProgress(
  progress: unknown,
  cutoffMs: number,
): { old: ProgressEntry[]; recent: ProgressEntry[] } {
  const list = Array.isArray(progress) ? (progress as ProgressEntry[]) : [];
  const sorted = [...list].sort((a, b) => a.at.localeCompare(b.at));
  return {
    old: sorted.filter((e) => Date.parse(e.at) < cutoffMs),
    recent: sorted.filter((e) => Date.parse(e.at) >= cutoffMs),
  };
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Keeps the newest segments when the summary grows past the limit. */
function fitToLimit(summary: string): string {
  let parts = summary.split(SEP);
  while (parts.length > 1 && parts.join(SEP).length > SUMMARY_MAX) parts = parts.slice(1);
  return clip(parts.join(SEP), SUMMARY_MAX);
}

/**
 * Deterministic condensation: one segment per run with the date range, the number of updates,
 * the percent trajectory and the three most recent notes, appended to the previous summary.
 */
export function rulesGoalSummary(prev: string | undefined, old: ProgressEntry[]): string {
  const first = old[0];
  const last = old.at(-1);
  if (!first || !last) return prev ?? "";
  const range =
    first.at.slice(0, 10) === last.at.slice(0, 10)
      ? first.at.slice(0, 10)
      : `${first.at.slice(0, 10)} to ${last.at.slice(0, 10)}`;
  const pcts = old.filter((e) => e.percent !== undefined).map((e) => e.percent as number);
  const bits = [`${range}: ${old.length} update${old.length === 1 ? "" : "s"}`];
  if (pcts.length) bits.push(pcts.length > 1 ? `${pcts[0]}% to ${pcts.at(-1)}%` : `${pcts[0]}%`);
  const notes = old
    .slice(-3)
    .reverse()
    .map((e) => clip(e.note, 80));
  const segment = `${bits.join(", ")}; latest: ${notes.join(" / ")}`;
  return fitToLimit(prev ? `${prev}${SEP}${segment}` : segment);
}

const GoalSummary = z.object({ summary: z.string().trim().min(1).max(SUMMARY_MAX) });

export async function llmGoalSummary(
  model: StructuredModel,
  goal: { title: string; description?: string },
  prev: string | undefined,
  old: ProgressEntry[],
): Promise<string> {
  const out = await model.generate(
    GoalSummary,
    "goal_progress_summary",
    "You condense the progress history of a personal goal into a short factual summary (at most 4 sentences). Keep numbers, dates and milestones; never invent progress.",
    JSON.stringify({
      goal: goal.title,
      description: goal.description,
      previous_summary: prev ?? null,
      entries_to_condense: old.map((e) => ({ at: e.at, note: e.note, percent: e.percent })),
    }),
  );
  return out.summary;
}
