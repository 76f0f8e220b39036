import { type Job, UnrecoverableError } from "bullmq";
import { SummarizePayload, type SummarizeResult } from "../queues/cadence.js";
import { STEPS, type StepDeps, type StepName } from "../src/cadence/steps.js";
import { parsePayload } from "./payload.js";

const NIGHTLY: readonly StepName[] = ["goals", "state", "feedback"];

/**
 * A user's nightly run (goals, state, feedback) or post-journal run (state). Each nightly
 * step records the local date it completed, so a retry after a failed step resumes at that
 * step and a re-run of the same night skips what is done (the steps are idempotent anyway).
 */
export function createSummarizeProcessor(deps: StepDeps) {
  return async (job: Job): Promise<SummarizeResult> => {
    const p = parsePayload(SummarizePayload, job.data, "summarize");
    if (!(await deps.cadence.index.zoneOfUser(p.user_id)))
      return { steps: { all: "unknown user (erased?)" } };
    const steps: Record<string, string> = {};
    const markers = `${deps.hot.base(p.user_id)}cadence`;
    const run: readonly StepName[] = p.kind === "nightly" ? NIGHTLY : ["state"];
    for (const step of run) {
      if (
        p.kind === "nightly" &&
        p.local_date &&
        (await deps.cadence.redis.hget(markers, step)) === p.local_date
      ) {
        steps[step] = "already done";
        continue;
      }
      try {
        steps[step] = await STEPS[step](deps, p.user_id);
      } catch (err) {
        const reason = `${step} summarizer: ${(err as Error).message}`;
        throw err instanceof UnrecoverableError ? new UnrecoverableError(reason) : new Error(reason);
      }
      if (p.kind === "nightly" && p.local_date) await deps.cadence.redis.hset(markers, step, p.local_date);
      await job.updateProgress({ steps });
    }
    return { steps };
  };
}
