import { z } from "zod";
import { isoDateTime, longText, shortText, stringList } from "./common.js";

/** Element 7: response feedback, episodic entries plus a semantic summary. */
export const FeedbackInput = z.strictObject({
  interaction_id: shortText(128),
  rating: z.number().int().min(1).max(5),
  tags: stringList(50, 20).optional(),
  comments: longText().optional(),
  timestamp: isoDateTime().optional(),
});
export type FeedbackInput = z.infer<typeof FeedbackInput>;

export const FeedbackSummary = z.strictObject({
  positives: stringList(300, 20),
  negatives: stringList(300, 20),
  suggestions: stringList(300, 20),
});
export type FeedbackSummary = z.infer<typeof FeedbackSummary>;
