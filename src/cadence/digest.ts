import type { HotDoc } from "../repositories/redis-hot.js";
import { addDays, localDate } from "./clock.js";

const CAP = 50;

export interface DigestTodo {
  todo_id: string;
  text: string;
  due_date: string;
  priority: number;
}
export interface DigestGoal {
  goal_id: string;
  title: string;
  target_date: string;
  days_left: number;
  priority: number;
}

/** A user's morning digest for one local date. */
export interface Digest {
  user_id: string;
  date: string;
  timezone: string;
  generated_at: string;
  horizon_days: number;
  goal_days: number;
  overdue: DigestTodo[];
  due_today: DigestTodo[];
  upcoming: DigestTodo[];
  goals_approaching: DigestGoal[];
  goals_past_target: DigestGoal[];
  [k: string]: unknown;
}

export interface DigestOptions {
  horizonDays: number;
  goalDays: number;
}

const dayDiff = (a: string, b: string) =>
  Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);

/** Due/overdue by the user's local calendar date (a date-time due is converted into their zone). */
export function buildDigest(
  user: string,
  tz: string,
  date: string,
  now: Date,
  todos: HotDoc[],
  goals: HotDoc[],
  o: DigestOptions,
): Digest {
  const horizon = addDays(date, o.horizonDays);
  const open = todos.filter((t) => ["pending", "in_progress"].includes(String(t.data.status ?? "pending")));
  const dated = open
    .filter((t) => typeof t.data.due_date === "string")
    .map((t) => {
      const due = String(t.data.due_date);
      const item: DigestTodo = {
        todo_id: t.id,
        text: String(t.data.text),
        due_date: due,
        priority: Number(t.data.priority ?? 3),
      };
      return { item, day: due.length === 10 ? due : localDate(tz, Date.parse(due)) };
    })
    .sort((a, b) => a.day.localeCompare(b.day) || a.item.priority - b.item.priority);
  const pick = (f: (day: string) => boolean) =>
    dated
      .filter((x) => f(x.day))
      .map((x) => x.item)
      .slice(0, CAP);

  const active = goals
    .filter((g) => (g.data.status ?? "active") === "active" && typeof g.data.target_date === "string")
    .map(
      (g): DigestGoal => ({
        goal_id: g.id,
        title: String(g.data.title),
        target_date: String(g.data.target_date),
        days_left: dayDiff(date, String(g.data.target_date)),
        priority: Number(g.data.priority ?? 3),
      }),
    )
    .sort((a, b) => a.days_left - b.days_left || a.priority - b.priority);

  return {
    user_id: user,
    date,
    timezone: tz,
    generated_at: now.toISOString(),
    horizon_days: o.horizonDays,
    goal_days: o.goalDays,
    overdue: pick((d) => d < date),
    due_today: pick((d) => d === date),
    upcoming: pick((d) => d > date && d <= horizon),
    goals_approaching: active.filter((g) => g.days_left >= 0 && g.days_left <= o.goalDays).slice(0, CAP),
    goals_past_target: active.filter((g) => g.days_left < 0).slice(0, CAP),
  };
}

const names = (items: { text?: string; title?: string }[], n = 5) => {
  const shown = items.slice(0, n).map((i) => i.text ?? i.title ?? "");
  return shown.join("; ") + (items.length > n ? `; +${items.length - n} more` : "");
};

/** The digest as prompt lines (for the context block). */
export function digestLines(d: Digest): string[] {
  const lines = [
    `${d.date}: ${d.overdue.length} overdue, ${d.due_today.length} due today, ${d.upcoming.length} due in the next ${d.horizon_days} days, ${d.goals_approaching.length} goal target(s) within ${d.goal_days} days`,
  ];
  if (d.overdue.length) lines.push(`Overdue: ${names(d.overdue)}`);
  if (d.due_today.length) lines.push(`Due today: ${names(d.due_today)}`);
  if (d.upcoming.length) lines.push(`Coming up: ${names(d.upcoming)}`);
  if (d.goals_approaching.length)
    lines.push(
      `Goal targets approaching: ${d.goals_approaching
        .slice(0, 5)
        .map((g) => `${g.title} (${g.target_date}, ${g.days_left} days)`)
        .join("; ")}`,
    );
  if (d.goals_past_target.length) lines.push(`Goals past their target date: ${names(d.goals_past_target)}`);
  return lines;
}
