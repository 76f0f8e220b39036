import { isDeepStrictEqual } from "node:util";
import { State } from "../../elements/state.js";
import type { JournalEntry } from "../../repositories/cadence-store.js";
import type { StructuredModel } from "../llm.js";

export const STATE_FIELDS = ["mood", "focus_areas", "pain_points", "recent_wins", "recent_losses"] as const;
export type StateField = (typeof STATE_FIELDS)[number];
type ListField = Exclude<StateField, "mood">;
const LIST_CAP = 10;
/** The newest entries a model sees in one run (bounds the prompt). */
const LLM_ENTRIES = 50;

export interface StateSignals {
  mood?: string;
  focus_areas: string[];
  pain_points: string[];
  recent_wins: string[];
  recent_losses: string[];
}

/** An update of one field, sequenced by the newest journal entry it came from. */
export interface StateUpdate {
  field: StateField;
  value: unknown;
  seq: number;
}

const MOODS: Record<string, string[]> = {
  happy: ["happy", "glad", "joyful", "cheerful", "great", "fantastic", "wonderful", "amazing"],
  excited: ["excited", "thrilled", "pumped"],
  grateful: ["grateful", "thankful"],
  proud: ["proud"],
  calm: ["calm", "relaxed", "peaceful", "content", "rested"],
  motivated: ["motivated", "energized", "energised", "inspired", "focused"],
  hopeful: ["hopeful", "optimistic"],
  tired: ["tired", "exhausted", "drained", "sleepy", "burnt out", "burned out"],
  stressed: ["stressed", "stressful", "overwhelmed", "under pressure"],
  anxious: ["anxious", "nervous", "worried", "uneasy"],
  sad: ["sad", "down", "depressed", "miserable", "unhappy"],
  frustrated: ["frustrated", "annoyed", "irritated"],
  angry: ["angry", "furious"],
  lonely: ["lonely", "isolated"],
  bored: ["bored"],
};
const moodAlternation = Object.values(MOODS)
  .flat()
  .sort((a, b) => b.length - a.length)
  .map((w) => w.replace(/ /g, "\\s+"))
  .join("|");
const INTENSIFIERS =
  "(?:so|really|very|pretty|quite|a\\s+bit|kind\\s+of|super|extremely|incredibly|totally|a\\s+little|absolutely)";
const MOOD_RE = new RegExp(
  `\\b(?:i\\s+(?:am|was|feel|felt)|i'm|im|feeling|felt)\\s+(not\\s+)?(?:${INTENSIFIERS}\\s+)*(${moodAlternation})\\b`,
  "gi",
);
const canonicalMood = (word: string): string | undefined => {
  const w = word.toLowerCase().replace(/\s+/g, " ");
  return Object.entries(MOODS).find(([, words]) => words.includes(w))?.[0];
};

const LOSS_RE =
  /\b(failed|missed|lost|didn't (?:manage|make|get|finish|pass)|did not (?:manage|make|get|finish|pass)|couldn't|could not|got rejected|was rejected|rejected|fell behind|gave up|blew it|messed up|screwed up|setback|bombed)\b/i;
const WIN_RE =
  /\b(finally|managed to|finished|completed|got (?:the|a|my) (?:job|offer|promotion|raise)|won|passed|achieved|got promoted|promotion|shipped|launched|nailed|accomplished|succeeded|personal (?:best|record)|new (?:pb|pr)|hit my|reached my|landed)\b/i;
const PAIN_RE =
  /\b(?:struggl(?:e|ed|ing) with|frustrated (?:with|by|about)|stressed (?:out )?about|worried about|anxious about|having trouble with|trouble with|problems? with|a hard time with|tired of|sick of|annoyed (?:by|with)|can't seem to)\s+([^.,;!?\n]+)/gi;
const FOCUS_RE =
  /\b(?:focus(?:ing|ed)? on|working on|concentrat(?:e|ing) on|prioriti[sz](?:e|ing)|my (?:main )?priority is|my priorities are|trying to improve|doubling down on)\s+([^.,;!?\n]+)/gi;

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const TIME_TAIL = /\s+(?:lately|recently|these days|again|today|tonight|right now|at the moment)$/i;
const tidy = (s: string, n: number) =>
  clip(
    s
      .trim()
      .replace(/\s+/g, " ")
      .replace(/[.!?,;:]+$/, ""),
    n,
  );
const phrase = (s: string) => tidy(tidy(s, 200).replace(TIME_TAIL, ""), 200);
const sentences = (text: string) =>
  text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** Keyword rules for one journal entry (documented as rules, not understanding). */
export function extractSignals(text: string): StateSignals {
  const out: StateSignals = { focus_areas: [], pain_points: [], recent_wins: [], recent_losses: [] };
  for (const m of text.matchAll(MOOD_RE)) {
    if (m[1]) continue; // "not happy": no signal rather than a wrong one
    const mood = canonicalMood(m[2] ?? "");
    if (mood) out.mood = mood; // the last mention in the entry wins
  }
  for (const s of sentences(text)) {
    if (LOSS_RE.test(s)) out.recent_losses.push(tidy(s, 300));
    else if (WIN_RE.test(s)) out.recent_wins.push(tidy(s, 300));
  }
  for (const m of text.matchAll(PAIN_RE)) if (m[1]) out.pain_points.push(phrase(m[1]));
  for (const m of text.matchAll(FOCUS_RE)) if (m[1]) out.focus_areas.push(phrase(m[1]));
  return out;
}

const key = (s: string) => s.toLowerCase();
function mergeList(fresh: string[], current: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const s of [...fresh, ...(Array.isArray(current) ? (current as string[]) : [])]) {
    if (seen.has(key(s))) continue;
    seen.add(key(s));
    out.push(s);
  }
  return out.slice(0, LIST_CAP);
}

export interface CurrentState {
  data: Record<string, unknown>;
  fv: Record<string, number>;
}

/** Entries newer than the field's last write, newest first. Older ones already lost to it. */
const contributing = (cur: CurrentState | undefined, entries: JournalEntry[], f: StateField) =>
  entries.filter((e) => e.seq > (cur?.fv[f] ?? 0)).sort((a, b) => b.seq - a.seq);

export function rulesStateUpdates(cur: CurrentState | undefined, entries: JournalEntry[]): StateUpdate[] {
  const signals = new Map(entries.map((e) => [e.journal_id, extractSignals(e.text)]));
  const updates: StateUpdate[] = [];
  for (const field of STATE_FIELDS) {
    const from = contributing(cur, entries, field);
    if (field === "mood") {
      const e = from.find((x) => signals.get(x.journal_id)?.mood);
      const mood = e && signals.get(e.journal_id)?.mood;
      if (e && mood && mood !== cur?.data.mood) updates.push({ field, value: mood, seq: e.seq });
      continue;
    }
    const fresh: string[] = [];
    let seq = 0;
    for (const e of from) {
      const items = signals.get(e.journal_id)?.[field as ListField] ?? [];
      if (items.length && !seq) seq = e.seq;
      fresh.push(...items);
    }
    if (!fresh.length) continue;
    const value = mergeList(fresh, cur?.data[field]);
    if (!isDeepStrictEqual(value, cur?.data[field])) updates.push({ field, value, seq });
  }
  return updates;
}

const StateOut = State.pick({
  mood: true,
  focus_areas: true,
  pain_points: true,
  recent_wins: true,
  recent_losses: true,
});

export async function llmStateUpdates(
  model: StructuredModel,
  cur: CurrentState | undefined,
  entries: JournalEntry[],
): Promise<StateUpdate[]> {
  const fresh = entries
    .filter((e) => STATE_FIELDS.some((f) => e.seq > (cur?.fv[f] ?? 0)))
    .sort((a, b) => b.seq - a.seq)
    .slice(0, LLM_ENTRIES);
  if (!fresh.length) return [];
  const out = await model.generate(
    StateOut,
    "current_state",
    "You maintain a person's current-state profile from their journal. Given the current values and new journal entries (oldest first), return the fields that the entries change: mood (one or two words), focus_areas, pain_points, recent_wins, recent_losses (short phrases, newest first, at most 10 each, keeping still-relevant current items). Omit fields the entries say nothing about. Never invent facts.",
    JSON.stringify({
      current: Object.fromEntries(STATE_FIELDS.map((f) => [f, cur?.data[f] ?? null])),
      entries: fresh.sort((a, b) => a.seq - b.seq).map((e) => ({ at: e.at, text: e.text })),
    }),
  );
  const updates: StateUpdate[] = [];
  for (const field of STATE_FIELDS) {
    const value = out[field];
    if (value === undefined || isDeepStrictEqual(value, cur?.data[field])) continue;
    const newest = contributing(cur, entries, field)[0];
    if (newest) updates.push({ field, value, seq: newest.seq });
  }
  return updates;
}
