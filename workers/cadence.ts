import type { Job } from "bullmq";
import { CadencePayload, type CadenceResult } from "../queues/cadence.js";
import { runFanout, runTick, scheduledAt } from "../src/cadence/fanout.js";
import type { CadenceServices } from "../src/cadence/services.js";
import { parsePayload } from "./payload.js";

export interface CadenceDeps {
  cadence: CadenceServices;
}

/** Ticks (from the job scheduler) and the bounded fan-out batches they start. */
export function createCadenceProcessor(deps: CadenceDeps) {
  return async (job: Job): Promise<CadenceResult> => {
    const p = parsePayload(CadencePayload, job.data, "cadence");
    const f = deps.cadence.fanout;
    if (p.kind === "fanout") return runFanout(f, p);
    if (p.at) return runTick(f, new Date(p.at), true);
    return runTick(f, scheduledAt(job.id, f.now()), false);
  };
}
