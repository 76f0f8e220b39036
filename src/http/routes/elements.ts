import { randomUUID } from "node:crypto";
import type { Router } from "express";
import { z } from "zod";
import { dateOrDateTime, ItemId, toEpochMs } from "../../elements/common.js";
import { EventInput, eventShape } from "../../elements/event.js";
import { GOAL_STATUSES, GoalInput, goalShape, ProgressInput } from "../../elements/goal.js";
import { patchOf } from "../../elements/patch.js";
import { Preferences, preferencesShape } from "../../elements/preferences.js";
import { Profile, profileShape } from "../../elements/profile.js";
import { State, stateShape } from "../../elements/state.js";
import { TODO_STATUSES, TodoInput, todoShape } from "../../elements/todo.js";
import { parseOrThrow } from "../../elements/validate.js";
import { toWire } from "../../elements/wire.js";
import { NotFoundError } from "../../errors.js";
import type { ApiDeps } from "../deps.js";
import { userOf } from "../params.js";
import { answeredPending, submitWrite } from "../write.js";
import { collectionRouter } from "./collection.js";
import { singletonRouter } from "./singleton.js";

const q = <T extends z.ZodRawShape>(shape: T) => z.looseObject(shape);

export function profileRoutes(deps: ApiDeps) {
  return singletonRouter(deps, "profile", "profile", Profile, patchOf(profileShape));
}
export function preferencesRoutes(deps: ApiDeps) {
  return singletonRouter(deps, "preferences", "preferences", Preferences, patchOf(preferencesShape));
}
export function stateRoutes(deps: ApiDeps) {
  return singletonRouter(deps, "state", "state", State, patchOf(stateShape));
}

const GoalQuery = q({ status: z.enum(GOAL_STATUSES).optional() });
export function goalRoutes(deps: ApiDeps) {
  return collectionRouter(
    deps,
    {
      element: "goal",
      label: "goal",
      create: GoalInput,
      shape: goalShape,
      full: GoalInput,
      patch: patchOf(goalShape, ["title"]),
      list: (query) => {
        const f = parseOrThrow(GoalQuery, query, "query");
        return { min: "-inf", max: "+inf", keep: (d) => !f.status || d.data.status === f.status };
      },
    },
    (r: Router) => {
      r.post("/:item_id/progress", async (req, res) => {
        const u = userOf(req);
        const id = parseOrThrow(ItemId, req.params.item_id, "path.goal_id");
        const input = parseOrThrow(ProgressInput, req.body, "body");
        if (!(await deps.reader.get(u, "goal", id))) throw new NotFoundError(`goal ${id}`);
        const entry = { progress_id: randomUUID(), ...input, at: input.at ?? deps.now().toISOString() };
        const out = await submitWrite(deps, req, {
          op: "append_progress",
          element: "goal",
          user_id: u,
          id,
          entry,
        });
        if (answeredPending(res, out)) return;
        const doc = await deps.reader.get(u, "goal", id);
        if (!doc) throw new NotFoundError(`goal ${id}`);
        res.status(201).json(toWire("goal", doc));
      });
    },
  );
}

const TodoQuery = q({ status: z.enum(TODO_STATUSES).optional(), due_before: dateOrDateTime().optional() });
export function todoRoutes(deps: ApiDeps) {
  return collectionRouter(deps, {
    element: "todo",
    label: "to-do",
    create: TodoInput,
    shape: todoShape,
    full: TodoInput,
    patch: patchOf(todoShape, ["text"]),
    list: (query) => {
      const f = parseOrThrow(TodoQuery, query, "query");
      return {
        min: "-inf",
        max: f.due_before ? `(${toEpochMs(f.due_before)}` : "+inf",
        keep: (d) => !f.status || (d.data.status ?? "pending") === f.status,
      };
    },
  });
}

const EventQuery = q({ from: dateOrDateTime().optional(), to: dateOrDateTime().optional() }).refine(
  (f) => !f.from || !f.to || toEpochMs(f.to) >= toEpochMs(f.from),
  { message: "must not be before from", path: ["to"], params: { rule: "to_before_from" } },
);
const eventPatch = patchOf(eventShape, ["summary", "start"]);
export function eventRoutes(deps: ApiDeps) {
  return collectionRouter(deps, {
    element: "event",
    label: "event",
    create: EventInput,
    shape: eventShape,
    full: EventInput,
    patch: eventPatch,
    list: (query) => {
      const f = parseOrThrow(EventQuery, query, "query");
      return {
        min: f.from ? toEpochMs(f.from) : "-inf",
        max: f.to ? toEpochMs(f.to) : "+inf",
        keep: () => true,
        // Past events leave Redis after EVENT_EVICT_AFTER_HOURS; older ranges come from DynamoDB.
        history: !!f.from && !!deps.calendar && toEpochMs(f.from) < deps.calendar.eviction.cutoff(),
      };
    },
  });
}
