import { type Job, UnrecoverableError } from "bullmq";
import { EmbedPayload, type EmbedResult } from "../queues/embed.js";
import type { Semantic } from "../src/semantic/service.js";
import { parsePayload } from "./payload.js";

export interface EmbedDeps {
  /** The semantic tier (src/semantic/service.ts); absent in hand-built deps. */
  semantic?: Semantic;
}

/**
 * Brings the vector index in line with the item's current document. Runs after the write is
 * durable and apart from it: a failing embedding retries here and never touches the write.
 */
export function createEmbedProcessor(deps: EmbedDeps) {
  return async (job: Job): Promise<EmbedResult> => {
    const data = parsePayload(EmbedPayload, job.data, "embed");
    if (!deps.semantic) throw new UnrecoverableError("this worker has no semantic tier");
    return deps.semantic.sync.sync(data);
  };
}
