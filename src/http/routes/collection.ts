import { randomUUID } from "node:crypto";
import { type Response, Router } from "express";
import type { z } from "zod";
import { ItemId } from "../../elements/common.js";
import type { CollectionName } from "../../elements/registry.js";
import { parseOrThrow } from "../../elements/validate.js";
import { toWire } from "../../elements/wire.js";
import { NotFoundError } from "../../errors.js";
import type { HotDoc } from "../../repositories/redis-hot.js";
import { listFromStore } from "../../services/event-history.js";
import type { ApiDeps } from "../deps.js";
import { userOf } from "../params.js";
import { answeredPending, submitWrite } from "../write.js";

export interface ListSpec {
  min: number | string;
  max: number | string;
  keep: (d: HotDoc) => boolean;
  /** Read DynamoDB, not the hot tier: the range reaches back past what Redis keeps. */
  history?: boolean;
}

export interface CollectionSpec {
  element: CollectionName;
  label: string;
  /** Create body (strict). */
  create: z.ZodType;
  /** Input fields, used to check a merged PATCH. */
  shape: z.ZodRawShape;
  full: z.ZodType;
  patch: z.ZodType;
  list: (query: unknown) => ListSpec;
}

function merge(cur: Record<string, unknown>, patch: Record<string, unknown>, shape: z.ZodRawShape) {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cur)) if (k in shape) out[k] = v;
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** POST / GET list / GET one / PATCH / DELETE for goals, to-dos and events. */
export function collectionRouter(deps: ApiDeps, spec: CollectionSpec, extend?: (r: Router) => void): Router {
  const r = Router({ mergeParams: true });
  const { element, label } = spec;
  const params = (p: Record<string, string>) => ({
    u: p.user_id as string,
    id: parseOrThrow(ItemId, p.item_id, `path.${element}_id`),
  });
  const existing = async (u: string, id: string) => {
    const doc = await deps.reader.get(u, element, id);
    if (!doc) throw new NotFoundError(`${label} ${id}`);
    return doc;
  };
  const answer = async (u: string, id: string, res: Response, status: number) => {
    res.status(status).json(toWire(element, await existing(u, id)));
  };

  r.post("/", async (req, res) => {
    const u = userOf(req);
    const data = parseOrThrow(spec.create, req.body, "body") as Record<string, unknown>;
    const id = randomUUID();
    const out = await submitWrite(deps, req, { op: "create", element, user_id: u, id, data });
    if (!answeredPending(res, out)) await answer(u, out.result?.id ?? id, res, 201);
  });

  r.get("/", async (req, res) => {
    const u = userOf(req);
    const l = spec.list(req.query);
    const docs = l.history
      ? await listFromStore(deps.store, u, element, l.min, l.max)
      : await deps.reader.list(u, element, l.min as number, l.max as number);
    res.json({ items: docs.filter(l.keep).map((d) => toWire(element, d)) });
  });

  r.get("/:item_id", async (req, res) => {
    const { u, id } = params(req.params);
    await answer(u, id, res, 200);
  });

  r.patch("/:item_id", async (req, res) => {
    const { u, id } = params(req.params);
    const changes = parseOrThrow(spec.patch, req.body, "body") as Record<string, unknown>;
    const cur = await existing(u, id);
    parseOrThrow(spec.full, merge(cur.data, changes, spec.shape), "body");
    const out = await submitWrite(deps, req, { op: "patch", element, user_id: u, id, data: changes });
    if (!answeredPending(res, out)) await answer(u, id, res, 200);
  });

  r.delete("/:item_id", async (req, res) => {
    const { u, id } = params(req.params);
    await existing(u, id);
    const out = await submitWrite(deps, req, { op: "delete", element, user_id: u, id });
    if (!answeredPending(res, out)) res.status(204).end();
  });

  extend?.(r);
  return r;
}
