import type { Job } from "bullmq";
import { DigestPayload, type DigestResult } from "../queues/cadence.js";
import { type DigestRunDeps, runDigest } from "../src/cadence/digest-run.js";
import { parsePayload } from "./payload.js";

export type DigestDeps = DigestRunDeps;

/** One user's digest for one local date: stored and published once (a re-run finds it there). */
export function createDigestProcessor(deps: DigestDeps) {
  return async (job: Job): Promise<DigestResult> => {
    const p = parsePayload(DigestPayload, job.data, "digest");
    if (!(await deps.cadence.index.zoneOfUser(p.user_id))) return { status: "unknown_user" };
    const { digest: d, status } = await runDigest(deps, p.user_id, p.tz, p.local_date);
    return {
      status: status === "replaced" ? "stored" : status,
      counts: {
        overdue: d.overdue.length,
        due_today: d.due_today.length,
        upcoming: d.upcoming.length,
        goals_approaching: d.goals_approaching.length,
      },
    };
  };
}
