import { Router } from "express";
import { z } from "zod";
import { parseOrThrow } from "../../elements/validate.js";
import { UnavailableError } from "../../errors.js";
import { resolveHits } from "../../semantic/recall.js";
import { EMBED_ELEMENTS, type EmbedElement } from "../../semantic/vector-index.js";
import type { ApiDeps } from "../deps.js";
import { userOf } from "../params.js";

const ALIASES: Record<string, EmbedElement> = {
  preferences: "preferences",
  preference: "preferences",
  goal: "goal",
  goals: "goal",
  todo: "todo",
  todos: "todo",
  event: "event",
  events: "event",
  feedback: "feedback",
};

/** `elements=goals,todos`: singular or plural names of the embedded elements. */
export const SearchQuery = z.looseObject({
  q: z.string().trim().min(1).max(2000),
  elements: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(",").map((e) => e.trim()) : undefined))
    .pipe(
      z
        .array(
          z.string().refine((e) => e in ALIASES, {
            message: `must be a comma-separated list of ${EMBED_ELEMENTS.join(", ")}`,
            params: { rule: "unknown_element" },
          }),
        )
        .min(1)
        .optional(),
    ),
  k: z.coerce.number().int().min(1).max(50).optional(),
});

/** Semantic search over the user's embedded memory; hits carry the current document. */
export function searchRoutes(deps: ApiDeps): Router {
  const r = Router({ mergeParams: true });
  r.get("/", async (req, res) => {
    const u = userOf(req);
    const f = parseOrThrow(SearchQuery, req.query, "query");
    if (!deps.semantic) throw new UnavailableError("semantic memory");
    const elements = f.elements ? [...new Set(f.elements.map((e) => ALIASES[e] as EmbedElement))] : undefined;
    const k = f.k ?? 10;
    // The embedder or the index being down is a 503 to retry, not a server fault.
    // A score of 0 shares nothing with the query: not a hit.
    const opts = { k, minScore: Number.EPSILON, ...(elements ? { elements } : {}) };
    const hits = await deps.semantic.search(u, f.q, opts).catch(() => {
      throw new UnavailableError("semantic search");
    });
    res.json({
      query: f.q,
      k,
      embedder: { identity: deps.semantic.embedder.identity, kind: deps.semantic.embedder.kind },
      hits: await resolveHits(u, hits, { reader: deps.reader, store: deps.store }),
    });
  });
  return r;
}
