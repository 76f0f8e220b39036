import { addDays } from "../clock.js";

const MONTHS = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];
const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
const MONTH_RE =
  "(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";

const monthIndex = (m: string) => MONTHS.findIndex((x) => x.startsWith(m.toLowerCase().slice(0, 3)));
const iso = (y: number, m: number, d: number) =>
  `${String(y).padStart(4, "0")}-${String(m + 1).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
const lastDay = (y: number, m: number) => new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
const weekday = (date: string) => new Date(`${date}T00:00:00Z`).getUTCDay();

/** The next occurrence of month m (this year unless already begun, then next year). */
function nextMonthYear(today: string, m: number, includeCurrent: boolean): number {
  const y = Number(today.slice(0, 4));
  const cur = Number(today.slice(5, 7)) - 1;
  return m > cur || (includeCurrent && m === cur) ? y : y + 1;
}

/**
 * A due/target date from an English phrase relative to `today` (the user's local date):
 * today, tomorrow, tonight, weekdays, "next week", "this weekend", "end of the month/year",
 * "in N days/weeks/months", month names ("before March" = the day before March starts;
 * "by/in March" = end of March), day and month ("March 5th", "5 March"), ISO dates.
 * Returns undefined when it cannot tell.
 */
export function parseDatePhrase(phrase: string, today: string): string | undefined {
  const p = phrase
    .toLowerCase()
    .trim()
    .replace(/[.,!?]+$/, "");
  const before = /^(before|until)\b/.test(p);
  const body = p.replace(/^(by|before|on|until|due|in|at|for|this coming|the)\s+/, "").replace(/^the\s+/, "");
  const shift = (d: string | undefined) => (d && before ? addDays(d, -1) : d);
  const y = Number(today.slice(0, 4));
  const mo = Number(today.slice(5, 7)) - 1;

  let m: RegExpExecArray | null = /^(\d{4})-(\d{2})-(\d{2})$/.exec(body);
  if (m) return shift(`${m[1]}-${m[2]}-${m[3]}`);
  if (/^(today|tonight|this evening|end of (the )?day)$/.test(body)) return today;
  if (body === "tomorrow") return shift(addDays(today, 1));
  if (/^(next week)$/.test(body)) return addDays(today, 7);
  if (/^(this )?weekend$/.test(body)) return shift(addDays(today, (6 - weekday(today) + 7) % 7));
  if (/^(end of (the )?month|month end|this month)$/.test(body)) return iso(y, mo, lastDay(y, mo));
  if (/^next month$/.test(body))
    return iso(mo === 11 ? y + 1 : y, (mo + 1) % 12, lastDay(mo === 11 ? y + 1 : y, (mo + 1) % 12));
  if (/^(end of (the )?year|this year|year end|the end of the year)$/.test(body)) return iso(y, 11, 31);
  if (/^next year$/.test(body)) return iso(y + 1, 11, 31);
  m = /^(\d{1,3}|a|one|two|three|four|five|six)\s+(day|week|month)s?$/.exec(body);
  if (m) {
    const words: Record<string, number> = { a: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6 };
    const n = words[m[1] as string] ?? Number(m[1]);
    if (m[2] === "day") return addDays(today, n);
    if (m[2] === "week") return addDays(today, 7 * n);
    const t = mo + n;
    const ty = y + Math.floor(t / 12);
    return iso(ty, t % 12, Math.min(Number(today.slice(8, 10)), lastDay(ty, t % 12)));
  }
  m = /^(?:next\s+)?(sunday|monday|tuesday|wednesday|thursday|friday|saturday)$/.exec(body);
  if (m) {
    const target = WEEKDAYS.indexOf(m[1] as string);
    const ahead = (target - weekday(today) + 7) % 7 || 7;
    return shift(addDays(today, ahead));
  }
  m =
    new RegExp(`^${MONTH_RE}\\s+(\\d{1,2})(?:st|nd|rd|th)?(?:,?\\s+(\\d{4}))?$`).exec(body) ??
    new RegExp(`^(\\d{1,2})(?:st|nd|rd|th)?\\s+(?:of\\s+)?${MONTH_RE}(?:,?\\s+(\\d{4}))?$`).exec(body);
  if (m) {
    const monthFirst = Number.isNaN(Number(m[1]));
    const mi = monthIndex((monthFirst ? m[1] : m[2]) as string);
    const day = Number(monthFirst ? m[2] : m[1]);
    let year = m[3] ? Number(m[3]) : y;
    if (!m[3] && iso(year, mi, day) < today) year += 1;
    if (mi < 0 || day < 1 || day > lastDay(year, mi)) return undefined;
    return shift(iso(year, mi, day));
  }
  m = new RegExp(`^(?:end of\\s+)?${MONTH_RE}(?:\\s+(\\d{4}))?$`).exec(body);
  if (m) {
    const mi = monthIndex(m[1] as string);
    const year = m[2] ? Number(m[2]) : nextMonthYear(today, mi, !before);
    if (before) return addDays(iso(year, mi, 1), -1);
    return iso(year, mi, lastDay(year, mi));
  }
  return undefined;
}

/** Splits "renew my passport before March" into the task and its date phrase, when there is one. */
export function splitDate(clause: string, today: string): { text: string; date?: string } {
  const re =
    /\s+((?:by|before|on|until|due|in|this coming)\s+[^,;]+|today|tonight|tomorrow|this weekend|next week|next month|next year|this year|this month|next (?:sunday|monday|tuesday|wednesday|thursday|friday|saturday))$/i;
  const m = re.exec(clause);
  if (m?.[1]) {
    const date = parseDatePhrase(m[1], today);
    if (date) return { text: clause.slice(0, m.index).trim(), date };
  }
  return { text: clause.trim() };
}
