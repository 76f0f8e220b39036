import { Router } from "express";
import type { z } from "zod";
import type { SingletonName } from "../../elements/registry.js";
import { parseOrThrow } from "../../elements/validate.js";
import { toWire } from "../../elements/wire.js";
import { NotFoundError } from "../../errors.js";
import type { ApiDeps } from "../deps.js";
import { answeredPending, submitWrite } from "../write.js";

function merge(cur: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = { ...cur };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** GET / PUT / PATCH for one-per-user documents (profile, preferences, state). */
export function singletonRouter(
  deps: ApiDeps,
  element: SingletonName,
  label: string,
  full: z.ZodObject,
  patch: z.ZodType,
): Router {
  const r = Router({ mergeParams: true });
  const user = (p: Record<string, string>) => p.user_id as string;

  const answer = async (u: string, res: import("express").Response, status: number) => {
    const doc = await deps.reader.get(u, element, "self");
    if (!doc) throw new NotFoundError(label);
    res.status(status).json(toWire(element, doc));
  };

  r.get("/", async (req, res) => answer(user(req.params), res, 200));

  r.put("/", async (req, res) => {
    const u = user(req.params);
    const data = parseOrThrow(full, req.body, "body");
    const out = await submitWrite(deps, req, { op: "put", element, user_id: u, data });
    if (!answeredPending(res, out)) await answer(u, res, 200);
  });

  r.patch("/", async (req, res) => {
    const u = user(req.params);
    const changes = parseOrThrow(patch, req.body, "body") as Record<string, unknown>;
    const cur = await deps.reader.get(u, element, "self");
    // The merged document must still satisfy the element's schema.
    // Server-managed fields (inference provenance) are not the client's to send back.
    parseOrThrow(full, merge(pickShape(full.shape, cur?.data ?? {}), changes), "body");
    const out = await submitWrite(deps, req, { op: "patch", element, user_id: u, data: changes });
    if (!answeredPending(res, out)) await answer(u, res, 200);
  });
  return r;
}

export const pickShape = (shape: z.ZodRawShape, data: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(data).filter(([k]) => k in shape));
