import { Router } from "express";
import { z } from "zod";
import { parseOrThrow } from "../../elements/validate.js";
import { loadTurnContext } from "../../services/turn-context.js";
import type { ApiDeps } from "../deps.js";
import { userOf } from "../params.js";

const ContextQuery = z.looseObject({
  max_chars: z.coerce.number().int().min(100).max(100_000).optional(),
  /** The user's message: adds the `relevant` section (README "Semantic memory"). */
  query: z.string().trim().min(1).max(2000).optional(),
  relevant_k: z.coerce.number().int().min(1).max(50).optional(),
});

/** The per-turn block: one Redis round trip when warm, read-through from DynamoDB when cold. */
export function contextRoutes(deps: ApiDeps): Router {
  const r = Router({ mergeParams: true });
  r.get("/", async (req, res) => {
    const u = userOf(req);
    const f = parseOrThrow(ContextQuery, req.query, "query");
    const stop = deps.metrics?.context.startTimer();
    const block = await loadTurnContext(deps, u, { maxChars: f.max_chars, query: f.query, k: f.relevant_k });
    stop?.();
    res.json(block);
  });
  return r;
}
