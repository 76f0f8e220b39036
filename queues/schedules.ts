import type { QueueName } from "./names.js";

export interface ScheduleDecl {
  /** Must start with SCHEDULE_PREFIX: schedulers with that prefix that are not declared here are removed. */
  id: string;
  queue: QueueName;
  repeat: { pattern: string; tz?: string } | { every: number };
  job: { name: string; data: Record<string, unknown> };
}

export const SCHEDULE_PREFIX = "sched.";

/**
 * Every BullMQ job scheduler of the system, declared in one place and upserted at start-up
 * (src/cadence/schedulers.ts). Change a cadence here and the next start replaces it; delete
 * an entry and the next start removes its scheduler. Per-user "nightly" and "daily" cadences
 * are not schedulers: the tick fans them out per timezone (README "Cadences").
 */
export const SCHEDULES: readonly ScheduleDecl[] = [
  {
    id: "sched.cadence-tick",
    queue: "cadence",
    // Every quarter hour: every UTC offset in use is a multiple of 15 minutes.
    repeat: { pattern: "*/15 * * * *", tz: "UTC" },
    job: { name: "tick", data: { kind: "tick" } },
  },
  {
    // Google Calendar upkeep: hands out the users due for channel renewal or a fallback poll.
    id: "sched.calendar-tick",
    queue: "calendar-sync",
    repeat: { every: 60_000 },
    job: { name: "tick", data: { kind: "tick" } },
  },
  {
    // Past events leave Redis (DynamoDB keeps them): a bounded SCAN sweep, handed on by cursor.
    id: "sched.event-evict",
    queue: "calendar-sync",
    repeat: { pattern: "7 * * * *", tz: "UTC" },
    job: { name: "evict", data: { kind: "evict" } },
  },
];
