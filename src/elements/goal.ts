import { z } from "zod";
import { ItemId, isoDate, isoDateTime, longText, priority, shortText } from "./common.js";

export const GOAL_STATUSES = ["active", "paused", "completed", "abandoned"] as const;

export const ProgressInput = z.strictObject({
  at: isoDateTime().optional(),
  note: shortText(1000),
  percent: z.number().min(0).max(100).optional(),
});
export type ProgressInput = z.infer<typeof ProgressInput>;

export const ProgressEntry = ProgressInput.extend({ progress_id: ItemId, at: isoDateTime() });
export type ProgressEntry = z.infer<typeof ProgressEntry>;

/** Element 3: goals & milestones. goal_id and progress are server-managed. */
export const goalShape = {
  title: shortText(200),
  description: longText().optional(),
  category: shortText(50).optional(),
  target_date: isoDate().optional(),
  status: z.enum(GOAL_STATUSES).optional(),
  priority: priority().optional(),
  parent: ItemId.optional(),
};
export const GoalInput = z.strictObject(goalShape);
export type GoalInput = z.infer<typeof GoalInput>;
export type Goal = GoalInput & { progress?: ProgressEntry[]; progress_summary?: string };
