import { Router } from "express";
import { z } from "zod";
import { parseOrThrow } from "../../elements/validate.js";
import { NotFoundError } from "../../errors.js";
import { assertMayAct } from "../auth.js";
import type { ApiDeps } from "../deps.js";

const JobId = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, "must be a job id returned by a write");

/** State of a queued write (`?wait=false` answers point here). */
export function jobRoutes(deps: ApiDeps): Router {
  const r = Router();
  r.get("/:job_id", async (req, res) => {
    const id = parseOrThrow(JobId, req.params.job_id, "path.job_id");
    const job = await deps.persist.queue.getJob(id);
    if (!job) throw new NotFoundError(`job ${id}`);
    assertMayAct(req.principal, job.data.user_id);
    const state = await job.getState();
    res.json({
      job_id: id,
      state,
      attempts_made: job.attemptsMade,
      failed_reason: job.failedReason || null,
      result: job.returnvalue ?? null,
    });
  });
  return r;
}
