import { type Digest, digestLines } from "../cadence/digest.js";
import { toEpochMs } from "../elements/common.js";
import { toWire } from "../elements/wire.js";
import type { HotDoc, UserSnapshot } from "../repositories/redis-hot.js";
import { relevantSection } from "../semantic/context-relevant.js";
import type { SemanticHit } from "../semantic/recall.js";

const DAY = 86_400_000;
const EVENT_DAYS = 7;

type Obj = Record<string, unknown>;

export interface ContextBlock {
  user_id: string;
  generated_at: string;
  sections: {
    basic_info: Obj | null;
    preferences: Obj | null;
    current_state: Obj | null;
    goals: Obj[];
    todos: Obj[];
    events: Obj[];
    feedback_summary: Obj | null;
    /** Today's morning digest (README "Cadences"), when one was stored for the user's local today. */
    digest: Obj | null;
    /** Only with ?query=: semantic hits not already shown above (README "Semantic memory"). */
    relevant?: Obj[];
  };
  text: string;
  /** Per section, how many items max_chars left out and which (ids for collections, field names otherwise). */
  omitted: { section: string; items: number; keys: string[] }[];
  truncated: boolean;
}

/** Window the snapshot must cover: ongoing events (started up to a day ago) through the next 7 days. */
export function eventWindow(now: Date): [number, number] {
  return [now.getTime() - DAY, now.getTime() + EVENT_DAYS * DAY];
}

function todayIn(tz: string | undefined, now: Date): string {
  try {
    return new Intl.DateTimeFormat("en-CA", {
      timeZone: tz ?? "UTC",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    }).format(now);
  } catch {
    return now.toISOString().slice(0, 10);
  }
}

function isOverdue(due: string | undefined, today: string, now: Date): boolean {
  if (!due) return false;
  return due.length === 10 ? due < today : toEpochMs(due) < now.getTime();
}

/** An all-day event (date-only start) lasts at least its whole day, so it shows until that day ends. */
function endsAt(e: HotDoc): number {
  const start = String(e.data.start);
  const startMs = toEpochMs(start);
  const endMs = e.data.end ? toEpochMs(String(e.data.end)) : startMs;
  return start.length === 10 ? Math.max(endMs, startMs + DAY) : endMs;
}

const list = (v: unknown) => (Array.isArray(v) ? v.join(", ") : String(v));

/** A line of the rendered text; `rank` orders what max_chars drops first (higher goes first). */
export interface Line {
  text: string;
  rank: number;
  key: string;
  drop?: () => void;
}
export interface Section {
  name: string;
  title: string;
  lines: Line[];
}

function fieldLines(doc: Obj | null, labels: [string, string][], baseRank: number): Line[] {
  if (!doc) return [];
  return labels
    .filter(([k]) => doc[k] !== undefined && !(Array.isArray(doc[k]) && (doc[k] as unknown[]).length === 0))
    .map(([k, label], i) => ({ text: `${label}: ${list(doc[k])}`, rank: baseRank + i * 0.01, key: k }));
}

/** Builds the per-turn block: JSON sections plus the rendered prompt text, trimmed to max_chars. */
export function buildContext(
  user: string,
  snap: UserSnapshot,
  now: Date,
  maxChars?: number,
  relevant?: SemanticHit[],
): ContextBlock {
  const s = snap.singletons;
  const basic = s.profile ? toWire("profile", s.profile) : null;
  const prefs = s.preferences ? toWire("preferences", s.preferences) : null;
  const state = s.state ? toWire("state", s.state) : null;
  const fb = s.feedback_summary ? toWire("feedback_summary", s.feedback_summary) : null;
  const today = todayIn(basic?.timezone as string | undefined, now);

  const goals = snap.goal
    .filter((g) => (g.data.status ?? "active") === "active")
    .map((g) => toWire("goal", g));
  const todos = snap.todo
    .filter((t) => ["pending", "in_progress"].includes(String(t.data.status ?? "pending")))
    .map(
      (t): Obj => ({
        ...toWire("todo", t),
        overdue: isOverdue(t.data.due_date as string | undefined, today, now),
      }),
    );
  const [, until] = eventWindow(now);
  const events = snap.event
    .filter((e: HotDoc) => endsAt(e) >= now.getTime() && toEpochMs(String(e.data.start)) <= until)
    .map((e) => toWire("event", e));

  const sections: Section[] = [];
  const keep = { goals: [...goals], todos: [...todos], events: [...events] };
  const removeFrom = (arr: Obj[], item: Obj) => () => arr.splice(arr.indexOf(item), 1);

  sections.push({
    name: "basic_info",
    title: "About the user",
    lines: fieldLines(
      basic,
      [
        ["name", "Name"],
        ["date_of_birth", "Born"],
        ["gender", "Gender"],
        ["timezone", "Time zone"],
        ["locale", "Locale"],
      ],
      1,
    ),
  });
  const attrs = (prefs?.attributes as Obj | undefined) ?? {};
  sections.push({
    name: "preferences",
    title: "Preferences",
    lines: [
      ...fieldLines(
        prefs,
        [
          ["occupation", "Occupation"],
          ["languages", "Languages"],
          ["food_preferences", "Food"],
          ["sport_preferences", "Sports"],
          ["hobby_preferences", "Hobbies"],
          ["travel_styles", "Travel"],
        ],
        40,
      ),
      ...Object.entries(attrs).map(([k, v], i) => ({
        text: `${k}: ${list(v)}`,
        rank: 60 + i * 0.01,
        key: `attributes.${k}`,
      })),
    ],
  });
  sections.push({
    name: "current_state",
    title: "Current state",
    lines: fieldLines(
      state,
      [
        ["mood", "Mood"],
        ["focus_areas", "Focus areas"],
        ["pain_points", "Pain points"],
        ["recent_wins", "Recent wins"],
        ["recent_losses", "Recent losses"],
        ["skills", "Skills"],
        ["education", "Education"],
      ],
      30,
    ),
  });
  sections.push({
    name: "goals",
    title: "Active goals",
    lines: goals.map((g, i) => {
      const progress = (g.progress as { note: string; percent?: number }[] | undefined)?.at(-1);
      const bits = [`[P${g.priority ?? 3}] ${g.title}`];
      if (g.target_date) bits.push(`target ${g.target_date}`);
      if (g.progress_summary) bits.push(`progress so far: ${g.progress_summary}`);
      if (progress)
        bits.push(
          `latest: ${progress.note}${progress.percent !== undefined ? ` (${progress.percent}%)` : ""}`,
        );
      return {
        text: `- ${bits.join("; ")}`,
        rank: 20 + i * 0.01,
        key: String(g.goal_id),
        drop: removeFrom(keep.goals, g),
      };
    }),
  });
  sections.push({
    name: "todos",
    title: "Pending to-dos",
    lines: todos.map((t, i) => ({
      text: `- ${t.text}${t.due_date ? ` (due ${t.due_date})` : ""}${t.overdue ? " overdue" : ""}`,
      rank: (t.overdue ? 15 : 25) + Number(t.priority ?? 3) + i * 0.001,
      key: String(t.todo_id),
      drop: removeFrom(keep.todos, t),
    })),
  });
  sections.push({
    name: "events",
    title: `Upcoming events (next ${EVENT_DAYS} days)`,
    lines: events.map((e, i) => ({
      text: `- ${e.start}${e.end ? ` to ${e.end}` : ""}: ${e.summary}${e.location ? ` @ ${e.location}` : ""}`,
      rank: 28 + i * 0.01,
      key: String(e.event_id),
      drop: removeFrom(keep.events, e),
    })),
  });
  const digest = todaysDigest(snap.digest, today);
  sections.push({
    name: "digest",
    title: "Today's digest",
    lines: digest
      ? digestLines(digest).map((text, i) => ({ text, rank: 26 + i * 0.01, key: `digest.${i}` }))
      : [],
  });
  sections.push({
    name: "feedback_summary",
    title: "How the user likes responses",
    lines: fieldLines(
      fb,
      [
        ["suggestions", "Suggestions"],
        ["positives", "Liked"],
        ["negatives", "Disliked"],
      ],
      50,
    ),
  });

  const rel = relevant ? relevantSection(sections, relevant) : undefined;
  if (rel) sections.push(rel.section);

  const render = () =>
    sections
      .filter((sec) => sec.lines.length > 0)
      .map((sec) => `## ${sec.title}\n${sec.lines.map((l) => l.text).join("\n")}`)
      .join("\n\n");

  let text = render();
  const omitted = new Map<string, string[]>();
  let truncated = false;
  if (maxChars !== undefined) {
    while (text.length > maxChars) {
      let worst: { sec: Section; idx: number } | undefined;
      for (const sec of sections) {
        sec.lines.forEach((l, idx) => {
          if (!worst || l.rank > (worst.sec.lines[worst.idx] as Line).rank) worst = { sec, idx };
        });
      }
      if (!worst || (worst.sec.name === "basic_info" && worst.sec.lines.length <= 1)) break;
      const [line] = worst.sec.lines.splice(worst.idx, 1);
      line?.drop?.();
      if (line) omitted.set(worst.sec.name, [...(omitted.get(worst.sec.name) ?? []), line.key]);
      text = render();
    }
    if (text.length > maxChars) {
      text = `${text.slice(0, Math.max(0, maxChars - 1))}…`;
      truncated = true;
    }
  }
  return {
    user_id: user,
    generated_at: now.toISOString(),
    sections: {
      basic_info: basic,
      preferences: prefs,
      current_state: state,
      goals: keep.goals,
      todos: keep.todos,
      events: keep.events,
      feedback_summary: fb,
      digest: digest ?? null,
      ...(rel ? { relevant: rel.kept } : {}),
    },
    text,
    omitted: [...omitted].map(([section, keys]) => ({ section, items: keys.length, keys })),
    truncated,
  };
}

function todaysDigest(raw: string | null | undefined, today: string): Digest | undefined {
  if (!raw) return undefined;
  const d = JSON.parse(raw) as Partial<Digest>;
  return d.date === today ? (d as Digest) : undefined;
}

export function isEmpty(snap: UserSnapshot): boolean {
  return (
    Object.values(snap.singletons).every((d) => !d) &&
    !snap.goal.length &&
    !snap.todo.length &&
    !snap.event.length
  );
}
