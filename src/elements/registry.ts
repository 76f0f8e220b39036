import type { z } from "zod";
import { toEpochMs } from "./common.js";
import { eventShape } from "./event.js";
import { FeedbackSummary } from "./feedback.js";
import { goalShape } from "./goal.js";
import { preferencesShape } from "./preferences.js";
import { profileShape } from "./profile.js";
import { stateShape } from "./state.js";
import { todoShape } from "./todo.js";

export type SingletonName = "profile" | "preferences" | "state" | "feedback_summary";
export type CollectionName = "goal" | "todo" | "event";
export type DocElement = SingletonName | CollectionName;

export interface ElementDef {
  name: DocElement;
  kind: "singleton" | "collection";
  /** Sort key in DynamoDB (prefix for collections). */
  sk: string;
  /** Field names of the schema; a PUT claims all of them. */
  fields: readonly string[];
  /** Wire name of the id for collections (goal_id, ...). */
  idField?: string;
  /** Redis sorted-set score for collection members. */
  score?: (data: Record<string, unknown>) => number;
  /** Fields the vector/semantic layer and text rendering read. */
  defaults?: Record<string, unknown>;
  /** Kept in DynamoDB (history) but never in the hot tier: cancelled Google Calendar events. */
  hidden?: (data: Record<string, unknown>) => boolean;
}

const FAR = 253402300799000; // 9999-12-31: sorts items without a date last

const keys = (shape: z.ZodRawShape) => Object.keys(shape);

export const ELEMENTS: Record<DocElement, ElementDef> = {
  profile: { name: "profile", kind: "singleton", sk: "PROFILE", fields: keys(profileShape) },
  // `provenance` (server-managed): where inferred values came from (src/services/provenance.ts).
  preferences: {
    name: "preferences",
    kind: "singleton",
    sk: "PREFERENCES",
    fields: [...keys(preferencesShape), "provenance"],
  },
  state: { name: "state", kind: "singleton", sk: "STATE", fields: keys(stateShape) },
  feedback_summary: {
    name: "feedback_summary",
    kind: "singleton",
    sk: "FEEDBACK_SUMMARY",
    fields: keys(FeedbackSummary.shape),
  },
  goal: {
    name: "goal",
    kind: "collection",
    sk: "GOAL#",
    idField: "goal_id",
    fields: [...keys(goalShape), "progress", "progress_summary", "provenance"],
    defaults: { status: "active", priority: 3 },
    // priority first (1 = highest), then target date: one ZSET gives the context order.
    score: (d) =>
      Number(d.priority ?? 3) * 1e13 + (d.target_date ? toEpochMs(String(d.target_date)) / 1000 : FAR / 1000),
  },
  todo: {
    name: "todo",
    kind: "collection",
    sk: "TODO#",
    idField: "todo_id",
    fields: [...keys(todoShape), "provenance"],
    defaults: { status: "pending", priority: 3 },
    score: (d) => (d.due_date ? toEpochMs(String(d.due_date)) : FAR),
  },
  event: {
    name: "event",
    kind: "collection",
    sk: "EVENT#",
    idField: "event_id",
    fields: [...keys(eventShape), "last_modified", "source"],
    defaults: { calendar_id: "manual", source: "manual" },
    hidden: (d) => d.status === "cancelled",
    score: (d) => toEpochMs(String(d.start)),
  },
};

export const COLLECTIONS: readonly CollectionName[] = ["goal", "todo", "event"];
export const SINGLETONS: readonly SingletonName[] = ["profile", "preferences", "state", "feedback_summary"];
