import { randomUUID } from "node:crypto";
import { UnrecoverableError } from "bullmq";
import { Router } from "express";
import { z } from "zod";
import { localDate, zoneOf } from "../../cadence/clock.js";
import { runDigest } from "../../cadence/digest-run.js";
import { inferFromText } from "../../cadence/infer/service.js";
import { FUTURE_TOLERANCE_MS, JournalInput } from "../../cadence/journal.js";
import type { CadenceServices } from "../../cadence/services.js";
import { parseOrThrow } from "../../elements/validate.js";
import { AppError, NotFoundError, ValidationError } from "../../errors.js";
import type { ApiDeps } from "../deps.js";
import { userOf } from "../params.js";
import { answeredPending, parseWriteOptions, submitWrite } from "../write.js";

const Page = z.looseObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,400}$/, "must be a cursor returned by a previous page")
    .optional(),
});
const InferInput = z.strictObject({ text: z.string().trim().min(1).max(2000) });
const DigestRebuild = z.strictObject({});

/** POST/GET /journal: episodic entries in DynamoDB; each write triggers the post-journal summarizer. */
export function journalRoutes(deps: ApiDeps, c: CadenceServices): Router {
  const r = Router({ mergeParams: true });
  r.post("/", async (req, res) => {
    const u = userOf(req);
    const input = parseOrThrow(JournalInput, req.body, "body");
    const now = deps.now();
    const at = input.at ? new Date(input.at) : now;
    if (at.getTime() > now.getTime() + FUTURE_TOLERANCE_MS)
      throw new ValidationError([
        { field: "body.at", rule: "in_future", message: "must not be in the future" },
      ]);
    const entry = {
      text: input.text,
      // Normalised to UTC so the sort key orders by time; never later than its recording.
      at: new Date(Math.min(at.getTime(), now.getTime())).toISOString(),
      recorded_at: now.toISOString(),
    };
    const id = randomUUID();
    const out = await submitWrite(deps, req, { op: "add_journal", user_id: u, id, data: entry });
    if (!answeredPending(res, out)) res.status(201).json({ journal_id: out.result?.id ?? id, ...entry });
  });
  r.get("/", async (req, res) => {
    const f = parseOrThrow(Page, req.query, "query");
    const page = await c.store.listJournal(userOf(req), f.limit ?? 20, f.cursor);
    res.json({ items: page.items.map(({ seq: _s, ...e }) => e), next_cursor: page.next_cursor });
  });
  return r;
}

/** GET /digest: the latest stored morning digest; POST rebuilds today's now (stored, published once a day). */
export function digestRoutes(deps: ApiDeps, c: CadenceServices): Router {
  const r = Router({ mergeParams: true });
  r.get("/", async (req, res) => {
    const d = await c.digests.get(userOf(req));
    if (!d) throw new NotFoundError("digest");
    res.json(d);
  });
  r.post("/", async (req, res) => {
    const u = userOf(req);
    parseOrThrow(DigestRebuild, req.body ?? {}, "body");
    parseWriteOptions(req); // the rebuild runs in the request and is idempotent: checked, not used
    const profile = await deps.reader.get(u, "profile", "self");
    const tz = zoneOf(profile?.data.timezone);
    const { digest } = await runDigest(
      { cadence: c, reader: deps.reader, now: deps.now },
      u,
      tz,
      localDate(tz, deps.now()),
      true,
    );
    res.status(201).json(digest);
  });
  return r;
}

/** POST /infer: preferences, to-dos and goals from an utterance, written with provenance. */
export function inferRoutes(deps: ApiDeps, c: CadenceServices): Router {
  const r = Router({ mergeParams: true });
  r.post("/", async (req, res) => {
    const u = userOf(req);
    const input = parseOrThrow(InferInput, req.body, "body");
    // Its writes carry ids derived from the text; the header is still checked like any write's.
    const { wait } = parseWriteOptions(req);
    try {
      const out = await inferFromText(
        {
          reader: deps.reader,
          hot: deps.hot,
          persist: deps.persist,
          engine: c.settings.engine,
          model: c.model,
          now: deps.now,
        },
        u,
        input.text,
        { wait },
      );
      const pending = out.writes.some((w) => w.status === "queued");
      res.status(pending ? 202 : 200).json({ source_text: input.text, ...out });
    } catch (err) {
      if (err instanceof UnrecoverableError) throw new AppError(502, "inference_failed", err.message);
      if (err instanceof AppError) throw err;
      const e = err as Error;
      if (
        /connect|ECONNREFUSED|timed? ?out|fetch failed|Connection error|status code 5\d\d|\b5\d\d\b/i.test(
          e.message,
        )
      )
        throw new AppError(503, "model_unavailable", "the language model is unavailable, retry later");
      throw err;
    }
  });
  return r;
}
