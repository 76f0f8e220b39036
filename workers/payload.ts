import { UnrecoverableError } from "bullmq";
import type { z } from "zod";

/** A job's data checked against its queue's schema; a bad payload fails at once, one line per field. */
export function parsePayload<S extends z.ZodType>(schema: S, data: unknown, queue: string): z.infer<S> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const why = parsed.error.issues.map((i) => `${i.path.join(".") || "(data)"} ${i.message}`).join("; ");
  throw new UnrecoverableError(`invalid ${queue} payload: ${why}`);
}
