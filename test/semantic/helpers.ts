import type { Semantic } from "../../src/semantic/service.js";
import type { TestSystem } from "../support/system.js";

/** Polls until `fn` returns a value that is not undefined/false (generous timeout: shared machine). */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (performance.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function semanticOf(ts: TestSystem): Semantic {
  const s = ts.system.deps.semantic;
  if (!s) throw new Error("no semantic tier");
  return s;
}

/** Every embed job in the queue has finished (none waiting, delayed, active or prioritized). */
export async function embedQueueIdle(ts: TestSystem): Promise<boolean> {
  const q = ts.system.ops.queues.byName.get("embed");
  if (!q) throw new Error("no embed queue");
  const c = await q.getJobCounts("waiting", "delayed", "active", "prioritized", "waiting-children");
  return Object.values(c).every((n) => n === 0);
}

/** The vector metadata of one item, once its text hash is the one given (or it exists, without a hash). */
export async function vectorMeta(ts: TestSystem, user: string, id: string) {
  return (await semanticOf(ts).index.fetch(user, [id])).get(id);
}
