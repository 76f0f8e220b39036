import { createHash } from "node:crypto";
import { isTimeZone } from "../elements/common.js";

export const SLOT_MS = 15 * 60_000;
export const DAY_MS = 86_400_000;

const formats = new Map<string, Intl.DateTimeFormat>();
function format(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", {
      timeZone: tz,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formats.set(tz, f);
  }
  return f;
}

/** A timezone the index can use: valid IANA names as given, anything else is UTC. */
export const zoneOf = (tz: unknown): string => (typeof tz === "string" && isTimeZone(tz) ? tz : "UTC");

/** Local calendar date (YYYY-MM-DD) and minutes since local midnight at `at` in `tz`. */
export function localParts(tz: string, at: Date | number): { date: string; minutes: number } {
  const parts = format(tz).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "00";
  return {
    date: `${get("year")}-${get("month")}-${get("day")}`,
    minutes: Number(get("hour")) * 60 + Number(get("minute")),
  };
}

export const localDate = (tz: string, at: Date | number): string => localParts(tz, at).date;

export const minutesOf = (hhmm: string): number => {
  const [h, m] = hhmm.split(":").map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

export const slotOf = (ms: number): number => Math.floor(ms / SLOT_MS);

/**
 * The local date whose cadence fires at the tick of `slot` in `tz`, if any: the tick at which
 * local time first reaches `target` that day. Crossing, not equality, so a target skipped by a
 * DST jump still fires once, and a repeated hour fires the same local date (deduplicated by id).
 */
export function dueDate(tz: string, slot: number, target: number): string | undefined {
  const cur = localParts(tz, slot * SLOT_MS);
  if (cur.minutes < target) return undefined;
  const prev = localParts(tz, (slot - 1) * SLOT_MS);
  return prev.date !== cur.date || prev.minutes < target ? cur.date : undefined;
}

/** Adds whole days to a YYYY-MM-DD date. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** A stable offset in [0, windowMs) for spreading one user's job over the window. */
export function spreadOffset(key: string, windowMs: number): number {
  if (windowMs <= 0) return 0;
  const h = createHash("sha256").update(key).digest();
  return h.readUInt32BE(0) % windowMs;
}

/** A short stable hash for job ids. */
export const shortHash = (s: string, n = 16): string =>
  createHash("sha256").update(s).digest("hex").slice(0, n);
