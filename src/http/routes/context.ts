import { Router } from "express";
import { z } from "zod";
import { parseOrThrow } from "../../elements/validate.js";
import { NotFoundError } from "../../errors.js";
import { buildContext, eventWindow, isEmpty } from "../../services/context.js";
import type { ApiDeps } from "../deps.js";
import { userOf } from "../params.js";

const ContextQuery = z.looseObject({ max_chars: z.coerce.number().int().min(100).max(100_000).optional() });

/** The per-turn block: one Redis round trip when warm, read-through from DynamoDB when cold. */
export function contextRoutes(deps: ApiDeps): Router {
  const r = Router({ mergeParams: true });
  r.get("/", async (req, res) => {
    const u = userOf(req);
    const f = parseOrThrow(ContextQuery, req.query, "query");
    const now = deps.now();
    const [from, to] = eventWindow(now);
    const snap = await deps.reader.snapshot(u, from, to);
    if (isEmpty(snap)) throw new NotFoundError(`user ${u}`);
    res.json(buildContext(u, snap, now, f.max_chars));
  });
  return r;
}
