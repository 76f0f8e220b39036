import { randomUUID } from "node:crypto";
import type { Job } from "bullmq";
import { expect } from "vitest";
import type { PersistPayload, PersistResult } from "../../queues/persist.js";
import { createPersistProcessor } from "../../workers/persist.js";
import { startTestSystem, type TestOptions, type TestSystem } from "./system.js";

/**
 * A test system whose writes wait long enough for the worker on a busy machine, so a
 * write answers 200/201 (not 202) without the test depending on timing. Rate limits are
 * off (they have their own tests): these suites make many requests for one user.
 */
export function startMemorySystem(opts: TestOptions = {}): Promise<TestSystem> {
  return startTestSystem({
    ...opts,
    env: { WRITE_WAIT_MS: "60000", RATE_LIMIT_PER_KEY: "0", RATE_LIMIT_PER_USER: "0", ...opts.env },
  });
}

export interface ApiResult {
  status: number;
  body: any;
}

/** A 400 answer with its stable code, naming `field` (and `rule` when given) in its details. */
export function expectInvalid(res: ApiResult, field: string, rule?: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body?.error?.code).toBe(rule === "json" ? "invalid_json" : "validation_failed");
  expect(JSON.stringify(res.body)).not.toMatch(/\.(ts|js):\d+|node_modules/); // no stack traces
  const details = (res.body.error.details ?? []) as { field: string; rule: string; message: string }[];
  const hit = details.find((d) => d.field === field && (rule === undefined || d.rule === rule));
  expect(hit, `no detail for ${field}${rule ? `/${rule}` : ""} in ${JSON.stringify(details)}`).toBeDefined();
  expect(hit?.message).toEqual(expect.any(String));
}

export interface WriteMarks {
  /** Every job the persist queue holds, whatever its state (completed ones are retained). */
  jobs: number;
  /** Items of the user's DynamoDB partition. */
  items: number;
  /** The user's write sequence counter in Redis (taken only once a write passed validation). */
  seq: string | null;
}

/** What a write would change: compare before and after a refused request. */
export async function writeMarks(t: TestSystem, user: string): Promise<WriteMarks> {
  const deps = t.system.deps;
  const counts = await deps.persist.queue.getJobCounts();
  const jobs = Object.values(counts).reduce((a, b) => a + b, 0);
  const items = await deps.store.countUserItems(user);
  const seq = await t.system.redis.get(`${deps.hot.base(user)}seq`);
  return { jobs, items, seq };
}

/** Runs `request` and checks it enqueued and wrote nothing for `user`. */
export async function refusedWithoutWrite<R>(
  t: TestSystem,
  user: string,
  request: () => Promise<R>,
): Promise<R> {
  const before = await writeMarks(t, user);
  const r = await request();
  expect(await writeMarks(t, user)).toEqual(before);
  return r;
}

/** A payload of `n` bytes of JSON string (for body-size tests). */
export const bigString = (n: number) => "x".repeat(n);

/** The persist processor on the system's own tiers, run directly: each call is one delivery of the job. */
export function persistRunner(t: TestSystem, now: Date): (p: PersistPayload) => Promise<PersistResult> {
  const { store, hot } = t.system.deps;
  const processor = createPersistProcessor({ store, hot, now: () => now });
  return (p) => processor({ data: structuredClone(p), id: randomUUID() } as unknown as Job);
}
