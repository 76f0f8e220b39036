import { z } from "zod";
import { dateOrDateTime, ItemId, priority, shortText, stringList } from "./common.js";

export const TODO_STATUSES = ["pending", "in_progress", "done", "cancelled"] as const;
export const TICKET_SIZES = ["xs", "s", "m", "l", "xl"] as const;

/** Element 4: to-do items. */
export const todoShape = {
  text: shortText(1000),
  due_date: dateOrDateTime().optional(),
  category: shortText(50).optional(),
  ticket_size: z.enum(TICKET_SIZES).optional(),
  status: z.enum(TODO_STATUSES).optional(),
  priority: priority().optional(),
  parent_goal: ItemId.optional(),
  tags: stringList(50, 20).optional(),
  notes: stringList(1000, 50).optional(),
};
export const TodoInput = z.strictObject(todoShape);
export type Todo = z.infer<typeof TodoInput>;
