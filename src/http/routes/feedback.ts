import { randomUUID } from "node:crypto";
import { Router } from "express";
import { z } from "zod";
import { FeedbackInput } from "../../elements/feedback.js";
import { parseOrThrow } from "../../elements/validate.js";
import { toWire } from "../../elements/wire.js";
import { NotFoundError } from "../../errors.js";
import { isFeedbackCursor } from "../../repositories/dynamo-store.js";
import type { ApiDeps } from "../deps.js";
import { userOf } from "../params.js";
import { answeredPending, submitWrite } from "../write.js";

const Page = z.looseObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,400}$/, "must be a cursor returned by a previous page")
    .refine(isFeedbackCursor, {
      message: "must be a cursor returned by a previous page",
      params: { rule: "invalid_cursor" },
    })
    .optional(),
});

/** Episodic feedback (DynamoDB, newest first) and its semantic summary (hot tier). */
export function feedbackRoutes(deps: ApiDeps): Router {
  const r = Router({ mergeParams: true });

  r.post("/", async (req, res) => {
    const u = userOf(req);
    const input = parseOrThrow(FeedbackInput, req.body, "body");
    const id = randomUUID();
    const data = { ...input, timestamp: input.timestamp ?? deps.now().toISOString() };
    const out = await submitWrite(deps, req, { op: "add_feedback", user_id: u, id, data });
    if (!answeredPending(res, out)) res.status(201).json({ feedback_id: out.result?.id ?? id, ...data });
  });

  r.get("/", async (req, res) => {
    const f = parseOrThrow(Page, req.query, "query");
    const page = await deps.store.listFeedback(userOf(req), f.limit ?? 20, f.cursor);
    res.json({
      items: page.items.map(({ seq: _s, ...rest }) => rest),
      next_cursor: page.next_cursor,
    });
  });

  r.get("/summary", async (req, res) => {
    const doc = await deps.reader.get(userOf(req), "feedback_summary", "self");
    if (!doc) throw new NotFoundError("feedback summary");
    res.json(toWire("feedback_summary", doc));
  });
  return r;
}
