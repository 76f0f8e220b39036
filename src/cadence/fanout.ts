import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import {
  CADENCE_NAMES,
  type CadenceName,
  type CadencePayload,
  type CadenceResult,
  jobIds,
} from "../../queues/cadence.js";
import type { CadenceQueues } from "../../queues/cadence-queues.js";
import { DAY_MS, dueDate, SLOT_MS, shortHash, slotOf, spreadOffset } from "./clock.js";
import type { UserIndex } from "./user-index.js";

const ADVANCE = readFileSync(new URL("./lua/slot_advance.lua", import.meta.url), "utf8");
/** After an outage, missed ticks are caught up for at most a day. */
const MAX_CATCHUP = DAY_MS / SLOT_MS;

export interface FanoutConfig {
  /** Minutes after local midnight at which each cadence fires. */
  targets: Record<CadenceName, number>;
  spreadMs: number;
  batch: number;
}

export interface FanoutDeps {
  redis: Redis;
  keyPrefix: string;
  index: UserIndex;
  queues: CadenceQueues;
  config: FanoutConfig;
  now: () => Date;
}

type Fanout = Extract<CadencePayload, { kind: "fanout" }>;

const fanoutJob = (p: Fanout) => ({
  data: p,
  jobId: jobIds.fanout(p.cadence, shortHash(p.tz, 12), p.local_date, p.after ? shortHash(p.after, 12) : "0"),
});

/**
 * One tick: for every quarter-hour slot since the last processed one (bounded catch-up),
 * every timezone in use whose local time crosses a cadence's target starts a fan-out. Cost
 * is zones x cadences per slot, whatever the number of users.
 */
export async function runTick(d: FanoutDeps, at: Date, explicit: boolean): Promise<CadenceResult> {
  const slot = slotOf(at.getTime());
  const lastKey = `${d.keyPrefix}:{cadence}:last-slot`;
  const last = Number((await d.redis.get(lastKey)) ?? 0);
  // An explicit tick (operator or test) runs its own slot only; scheduled ones catch up.
  const from = explicit || !last ? slot : Math.max(last + 1, slot - MAX_CATCHUP + 1);
  const zones = await d.index.zones();
  const jobs: { data: CadencePayload; jobId: string }[] = [];
  for (let s = from; s <= slot; s++) {
    for (const cadence of CADENCE_NAMES) {
      for (const tz of zones) {
        const date = dueDate(tz, s, d.config.targets[cadence]);
        if (date)
          jobs.push(fanoutJob({ kind: "fanout", cadence, tz, local_date: date, window_start: s * SLOT_MS }));
      }
    }
  }
  await d.queues.addCadence(jobs);
  await d.redis.eval(ADVANCE, 1, lastKey, slot);
  return { slots: Math.max(0, slot - from + 1), fanouts: jobs.length };
}

/**
 * One bounded batch of a zone's users: their per-user jobs (deterministic ids, spread over the
 * window by delay), then the next batch. A crash anywhere re-runs the batch harmlessly.
 */
export async function runFanout(d: FanoutDeps, p: Fanout): Promise<CadenceResult> {
  const users = await d.index.page(p.tz, p.after, d.config.batch);
  const now = d.now().getTime();
  const delay = (u: string) =>
    Math.max(0, p.window_start + spreadOffset(`${p.cadence}.${u}`, d.config.spreadMs) - now);
  if (p.cadence === "nightly") {
    await d.queues.addNightly(
      users.map((u) => ({
        data: { kind: "nightly" as const, user_id: u, local_date: p.local_date },
        jobId: jobIds.perUser("nightly", u, p.local_date),
        delay: delay(u),
      })),
    );
  } else {
    await d.queues.addDigests(
      users.map((u) => ({
        data: { user_id: u, local_date: p.local_date, tz: p.tz },
        jobId: jobIds.perUser("digest", u, p.local_date),
        delay: delay(u),
      })),
    );
  }
  const next = users.length === d.config.batch ? users.at(-1) : undefined;
  if (next) await d.queues.addCadence([fanoutJob({ ...p, after: next })]);
  return { users: users.length, next_after: next ?? null };
}

/** The tick's time: a scheduler job's id ends with its scheduled epoch ms. */
export function scheduledAt(jobId: string | undefined, fallback: Date): Date {
  const m = jobId ? /^repeat:.*:(\d{10,})$/.exec(jobId) : null;
  return m ? new Date(Number(m[1])) : fallback;
}
