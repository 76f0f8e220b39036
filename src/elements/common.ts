import { z } from "zod";

/** Limits that bound what one user can store; documented in the README. */
export const LIMITS = {
  shortText: 200,
  longText: 4000,
  listItems: 100,
  attributes: 100,
  attributeKey: 64,
  bodyBytes: 64 * 1024,
} as const;

export const shortText = (max: number = LIMITS.shortText) => z.string().trim().min(1).max(max);
export const longText = () => z.string().max(LIMITS.longText);
export const stringList = (itemMax: number = LIMITS.shortText, count: number = LIMITS.listItems) =>
  z.array(shortText(itemMax)).max(count);

export const idPattern = /^[A-Za-z0-9_-]{1,64}$/;
export const UserId = z.string().regex(idPattern, "must be 1-64 characters of A-Z a-z 0-9 _ -");
export const ItemId = UserId;

const isoDateRe = /^\d{4}-\d{2}-\d{2}$/;
export const isoDate = () =>
  z
    .string()
    .regex(isoDateRe, "must be a date YYYY-MM-DD")
    .refine(
      (s) =>
        !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s),
      {
        message: "must be a real calendar date",
        params: { rule: "invalid_date" },
      },
    );

export const isoDateTime = () =>
  z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time with timezone" });

/** Date or date-time; both sort and compare as instants (dates = midnight UTC). */
export const dateOrDateTime = () =>
  z.union([isoDate(), isoDateTime()], { message: "must be a date YYYY-MM-DD or an ISO 8601 date-time" });

export function toEpochMs(s: string): number {
  return isoDateRe.test(s) ? Date.parse(`${s}T00:00:00Z`) : Date.parse(s);
}

let zones: Set<string> | undefined;
export function isTimeZone(tz: string): boolean {
  zones ??= new Set(Intl.supportedValuesOf("timeZone"));
  if (zones.has(tz) || tz === "UTC") return true;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

// Intl.getCanonicalLocales is slow next to the rest of a write's validation; few distinct tags recur.
const localeVerdicts = new Map<string, boolean>();

export function isLocale(tag: string): boolean {
  const known = localeVerdicts.get(tag);
  if (known !== undefined) return known;
  let ok: boolean;
  try {
    ok = Intl.getCanonicalLocales(tag).length === 1;
  } catch {
    ok = false;
  }
  if (localeVerdicts.size >= 1000) localeVerdicts.clear();
  localeVerdicts.set(tag, ok);
  return ok;
}

export const priority = () => z.number().int().min(1).max(5);

export const nowIso = () => new Date().toISOString();
