import type { Semantic } from "../../src/semantic/service.js";
import type { TestSystem } from "../support/system.js";

export { waitFor } from "../support/wait.js";

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
