import { NotFoundError } from "../errors.js";
import type { ApiDeps } from "../http/deps.js";
import { resolveHits, type SemanticHit } from "../semantic/recall.js";
import type { VectorHit } from "../semantic/vector-index.js";
import { buildContext, type ContextBlock, eventWindow, isEmpty } from "./context.js";

export type TurnContextDeps = Pick<ApiDeps, "reader" | "store" | "now" | "cadence" | "semantic">;

export interface TurnContextOptions {
  maxChars?: number;
  /** The user's message: adds the `relevant` section (one embedding, one vector query). */
  query?: string;
  /** Hits to ask for; RELEVANT_K by default. */
  k?: number;
}

export type TurnContext = ContextBlock & { relevant_error?: string };

/**
 * The per-turn block, shared by GET /context and the in-process LangChain memory. The vector
 * query runs while the hot tier is read; its hits are resolved from that same snapshot.
 */
export async function loadTurnContext(
  deps: TurnContextDeps,
  user: string,
  o: TurnContextOptions = {},
): Promise<TurnContext> {
  const now = deps.now();
  const [from, to] = eventWindow(now);
  const sem = o.query ? deps.semantic : undefined;
  const search: Promise<VectorHit[] | Error> | undefined = sem
    ? sem
        .search(user, o.query as string, { k: o.k ?? sem.recall.k, minScore: sem.recall.minScore })
        .catch((err: Error) => err)
    : undefined;
  const snap = await deps.reader.snapshot(user, from, to);
  if (isEmpty(snap)) {
    await search;
    throw new NotFoundError(`user ${user}`);
  }
  // Not in the hot tier (first read, or Redis lost it): DynamoDB once, then cached either way.
  if (snap.digest == null && deps.cadence) {
    // DynamoDB down: the turn goes on without the digest (nothing cached, the next read asks again).
    const d = await deps.cadence.digests.fromHot(user, null).catch(() => undefined);
    snap.digest = d ? JSON.stringify(d) : null;
  }
  let relevant: SemanticHit[] | undefined;
  let relevantError: string | undefined;
  if (o.query) {
    const hits = search ? await search : new Error("semantic memory is not configured");
    if (hits instanceof Error) {
      // The turn goes on without semantic hits: the structured sections matter more than they do.
      // Fixed text: a provider's error can quote (part of) a key.
      relevantError = "semantic search unavailable; the structured sections are complete";
      relevant = [];
    } else
      relevant = await resolveHits(user, hits, { reader: deps.reader, store: deps.store, snapshot: snap });
  }
  const block: TurnContext = buildContext(user, snap, now, o.maxChars, relevant);
  if (relevantError) block.relevant_error = relevantError;
  return block;
}
