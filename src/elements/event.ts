import { z } from "zod";
import { dateOrDateTime, longText, shortText, stringList, toEpochMs } from "./common.js";

/** Element 5: calendar events (manual here; Google-synced ones carry source "google"). */
export const eventShape = {
  calendar_id: shortText(200).optional(),
  summary: shortText(500),
  description: longText().optional(),
  start: dateOrDateTime(),
  end: dateOrDateTime().optional(),
  location: shortText(500).optional(),
  attendees: stringList(254, 100).optional(),
  recurrence: stringList(500, 20).optional(),
};
const endAfterStart = (e: { start?: string; end?: string | undefined }) =>
  !e.start || !e.end || toEpochMs(e.end) >= toEpochMs(e.start);
export const EventInput = z.strictObject(eventShape).refine(endAfterStart, {
  message: "must not be before start",
  path: ["end"],
  params: { rule: "end_before_start" },
});
export type EventInput = z.infer<typeof EventInput>;
export type CalendarEvent = EventInput & { last_modified?: string; source?: string };
