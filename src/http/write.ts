import type { Request, Response } from "express";
import { z } from "zod";
import type { PersistPayload } from "../../queues/persist.js";
import { type EnqueueOutcome, JobFailedError, type WriteRequest } from "../../queues/persist-queue.js";
import { parseOrThrow } from "../elements/validate.js";
import { AppError } from "../errors.js";
import type { ApiDeps } from "./deps.js";

const WriteQuery = z.looseObject({ wait: z.enum(["true", "false"]).optional() });
const IdemKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,128}$/, "must be 1-128 printable ASCII characters")
  .optional();

/** `?wait=` and `Idempotency-Key`, checked alike on every write route (including those that do not queue). */
export function parseWriteOptions(req: Request): { wait: boolean; idempotencyKey?: string } {
  const q = parseOrThrow(WriteQuery, req.query, "query");
  const idempotencyKey = parseOrThrow(IdemKey, req.headers["idempotency-key"], "header.idempotency-key");
  return { wait: q.wait !== "false", ...(idempotencyKey === undefined ? {} : { idempotencyKey }) };
}

/** Sequences the write, enqueues it on `persist`, and waits (bounded) unless ?wait=false. */
export async function submitWrite(deps: ApiDeps, req: Request, w: WriteRequest): Promise<EnqueueOutcome> {
  const { wait, idempotencyKey } = parseWriteOptions(req);
  const seq = await deps.hot.nextSeq(w.user_id);
  const rid = req.headers["x-request-id"];
  const payload = {
    ...w,
    seq,
    ...(typeof rid === "string" ? { request_id: rid.slice(0, 64) } : {}),
  } as PersistPayload;
  try {
    return await deps.persist.enqueue(payload, { wait, idempotencyKey });
  } catch (err) {
    if (err instanceof JobFailedError)
      throw new AppError(500, "write_failed", `job ${err.jobId} failed: ${err.message}`);
    throw err;
  }
}

/** 202 with the job id when the write is still queued; otherwise the caller answers with the stored document. */
export function answeredPending(res: Response, out: EnqueueOutcome): boolean {
  if (!out.pending) return false;
  res
    .status(202)
    .json({ job_id: out.job_id, status: "queued", status_url: `/v1/jobs/${encodeURIComponent(out.job_id)}` });
  return true;
}
