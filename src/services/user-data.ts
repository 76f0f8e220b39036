import { ErasureIncompleteError } from "../errors.js";
import type { UserTier } from "./user-tiers.js";

export interface ErasureProof {
  user_id: string;
  erased: true;
  erased_at: string;
  passes: number;
  /** Records left per tier, counted after the last pass: all 0. */
  remaining: Record<string, number>;
}

export interface EraseOptions {
  now: () => Date;
  /** How long to wait for active jobs and concurrent refills before answering 503. */
  timeoutMs?: number;
}

async function countAll(tiers: readonly UserTier[], user: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tiers) out[t.name] = (out[t.name] ?? 0) + (await t.count(user));
  return out;
}

/**
 * Erases the user from every tier in registration order (queues first, so no queued write
 * lands afterwards), then counts. A job still running, or a read-through refill racing the
 * erasure, shows up in the count: wait a little and run the whole pass again.
 */
export async function eraseUser(
  tiers: readonly UserTier[],
  user: string,
  o: EraseOptions,
): Promise<ErasureProof> {
  const deadline = performance.now() + (o.timeoutMs ?? 30_000);
  for (let pass = 1; ; pass++) {
    for (const t of tiers) await t.erase(user);
    const remaining = await countAll(tiers, user);
    if (Object.values(remaining).every((n) => n === 0)) {
      return { user_id: user, erased: true, erased_at: o.now().toISOString(), passes: pass, remaining };
    }
    if (performance.now() > deadline) throw new ErasureIncompleteError(remaining);
    await new Promise((r) => setTimeout(r, Math.min(1000, 50 * pass)));
  }
}

// Defence in depth: a tier must not export credentials, and this drops any that slip through.
const SECRET_KEY = /(^|_)(token|tokens|secret|password|credentials?|api_key)$/i;

function redact(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redact);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => !SECRET_KEY.test(k))
        .map(([k, x]) => [k, redact(x)]),
    );
  }
  return v;
}

/** One JSON document with what every tier holds about the user, keyed by tier name. */
export async function exportUser(tiers: readonly UserTier[], user: string, now: () => Date) {
  const out: Record<string, unknown> = {};
  for (const t of tiers) if (t.export) out[t.name] = redact(await t.export(user));
  return { user_id: user, exported_at: now().toISOString(), tiers: out };
}
