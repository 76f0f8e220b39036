import { type DefaultJobOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { z } from "zod";
import { UserId } from "../src/elements/common.js";

export const CALENDAR_SYNC_QUEUE = "calendar-sync";

export const SYNC_REASONS = ["connect", "push", "poll", "manual"] as const;
export type SyncReason = (typeof SYNC_REASONS)[number];
const ChannelId = z.string().regex(/^[A-Za-z0-9_+/=-]{1,64}$/);

/**
 * `calendar-sync`: a user's sync with Google, the per-user upkeep (channel renewal, fallback
 * poll), stopping a stale channel, the scheduler's tick, and the sweep of past events.
 */
export const CalendarSyncPayload = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("sync"), user_id: UserId, reason: z.enum(SYNC_REASONS) }),
  z.object({ kind: z.literal("maintain"), user_id: UserId }),
  z.object({
    kind: z.literal("stop_channel"),
    user_id: UserId,
    channel_id: ChannelId,
    resource_id: z.string().min(1).max(256),
  }),
  z.object({ kind: z.literal("tick") }),
  z.object({
    kind: z.literal("evict"),
    cursor: z
      .string()
      .regex(/^\d{1,20}$/)
      .optional(),
  }),
]);
export type CalendarSyncPayload = z.infer<typeof CalendarSyncPayload>;

export interface CalendarSyncResult {
  kind: CalendarSyncPayload["kind"];
  status: string;
  counts?: Record<string, number>;
}

const JOB_OPTIONS: DefaultJobOptions = {
  attempts: 5,
  backoff: { type: "exponential", delay: 2000 },
  removeOnComplete: { age: 3600, count: 5000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 20_000 },
};

/** Producer for `calendar-sync` (nothing else touches this queue directly). */
export class CalendarSyncQueue {
  readonly queue: Queue<CalendarSyncPayload, CalendarSyncResult>;

  constructor(connection: Redis, prefix: string) {
    this.queue = new Queue(CALENDAR_SYNC_QUEUE, { connection, prefix, defaultJobOptions: JOB_OPTIONS });
  }

  /**
   * One sync per user at a time: notifications arriving while it waits fold into it, and one
   * arriving while it runs queues exactly one more (it may have missed that change).
   */
  async sync(user: string, reason: SyncReason): Promise<string | undefined> {
    const job = await this.queue.add(
      "sync",
      { kind: "sync", user_id: user, reason },
      { deduplication: { id: `sync.${user}`, keepLastIfActive: true } },
    );
    return job.id;
  }

  async maintain(users: readonly string[]): Promise<void> {
    if (users.length === 0) return;
    await this.queue.addBulk(
      users.map((u) => ({
        name: "maintain",
        data: { kind: "maintain" as const, user_id: u },
        // One asked for while one runs is kept: the running one may have read the state before the change.
        opts: { deduplication: { id: `maintain.${u}`, keepLastIfActive: true } },
      })),
    );
  }

  async stopChannel(user: string, channelId: string, resourceId: string): Promise<void> {
    await this.queue.add(
      "stop_channel",
      { kind: "stop_channel", user_id: user, channel_id: channelId, resource_id: resourceId },
      { deduplication: { id: `stop.${channelId}` } },
    );
  }

  async tick(): Promise<void> {
    await this.queue.add("tick", { kind: "tick" }, { deduplication: { id: "tick", keepLastIfActive: true } });
  }

  /** Continuation of an eviction sweep; the job id makes a retried hand-off a no-op. */
  async evict(cursor?: string, sweepId?: string): Promise<void> {
    await this.queue.add(
      "evict",
      { kind: "evict", ...(cursor ? { cursor } : {}) },
      // BullMQ refuses ":" in custom ids; scheduler-made job ids contain it.
      sweepId ? { jobId: `evict.${sweepId.replace(/:/g, "_")}.${cursor ?? "0"}` } : {},
    );
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
