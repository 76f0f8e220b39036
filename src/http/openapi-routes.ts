import { z } from "zod";
import { Extraction } from "../cadence/infer/types.js";
import { JournalInput } from "../cadence/journal.js";
import { dateOrDateTime, ItemId } from "../elements/common.js";
import { EventInput, eventShape } from "../elements/event.js";
import { FeedbackInput, FeedbackSummary } from "../elements/feedback.js";
import { GOAL_STATUSES, GoalInput, goalShape, ProgressEntry, ProgressInput } from "../elements/goal.js";
import { patchOf } from "../elements/patch.js";
import { Preferences, preferencesShape } from "../elements/preferences.js";
import { Profile, profileShape } from "../elements/profile.js";
import { State, stateShape } from "../elements/state.js";
import { TODO_STATUSES, TodoInput, todoShape } from "../elements/todo.js";

/**
 * Every route of the app, for /openapi.json. test/ops-openapi.test.ts fails when a route is
 * registered in Express but missing here (or the other way round): add new routes to this list.
 */
export interface OperationSpec {
  method: "GET" | "PUT" | "PATCH" | "POST" | "DELETE";
  /** Express-style path, e.g. /v1/users/:user_id/goals/:item_id */
  path: string;
  summary: string;
  tag: string;
  /** Component name of the request body schema (see SCHEMAS). */
  body?: string;
  query?: z.ZodObject;
  /** Success status -> component name (or null for no body). */
  ok: Record<number, string | null>;
  /** Writes answer 202 with a job when ?wait=false or the wait runs out. */
  write?: boolean;
  /** false only for the unauthenticated ops routes. */
  auth?: boolean;
  /** Mounted only when this is configured (the test app may not have it). */
  when?: string;
}

const meta = { version: z.number().int(), updated_at: z.string() };
const collectionMeta = (idField: string) => ({
  [idField]: ItemId,
  version: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
});

/** Named schemas: request bodies are the element schemas the routes validate with. */
export const SCHEMAS: Record<string, z.ZodType> = {
  Profile,
  ProfilePatch: patchOf(profileShape),
  ProfileDoc: z.object({ ...profileShape, ...meta }),
  Preferences,
  PreferencesPatch: patchOf(preferencesShape),
  PreferencesDoc: z.object({ ...preferencesShape, ...meta }),
  State,
  StatePatch: patchOf(stateShape),
  StateDoc: z.object({ ...stateShape, version: z.number().int(), last_updated: z.string() }),
  GoalInput,
  GoalPatch: patchOf(goalShape, ["title"]),
  GoalDoc: z.object({
    ...goalShape,
    ...collectionMeta("goal_id"),
    progress: z.array(ProgressEntry).optional(),
    progress_summary: z.string().optional(),
  }),
  ProgressInput,
  TodoInput,
  TodoPatch: patchOf(todoShape, ["text"]),
  TodoDoc: z.object({ ...todoShape, ...collectionMeta("todo_id") }),
  EventInput,
  EventPatch: patchOf(eventShape, ["summary", "start"]),
  EventDoc: z.object({
    ...eventShape,
    ...collectionMeta("event_id"),
    source: z.string().optional(),
    last_modified: z.string().optional(),
  }),
  FeedbackInput,
  Feedback: FeedbackInput.extend({ feedback_id: ItemId, timestamp: z.string() }),
  FeedbackPage: z.object({
    items: z.array(FeedbackInput.extend({ feedback_id: ItemId, timestamp: z.string() })),
    next_cursor: z.string().nullable(),
  }),
  FeedbackSummaryDoc: FeedbackSummary.extend({ version: z.number().int(), last_updated: z.string() }),
  Context: z.looseObject({
    user_id: z.string(),
    generated_at: z.string(),
    sections: z.record(z.string(), z.unknown()),
    text: z.string(),
    omitted: z.array(z.object({ section: z.string(), items: z.number().int(), keys: z.array(z.string()) })),
    truncated: z.boolean(),
    relevant_error: z.string().optional(),
  }),
  SearchResults: z.object({
    query: z.string(),
    k: z.number().int(),
    embedder: z.object({ identity: z.string(), kind: z.enum(["lexical", "model"]) }),
    hits: z.array(
      z.object({
        element: z.enum(["preferences", "goal", "todo", "event", "feedback"]),
        item_id: z.string(),
        score: z.number(),
        item: z.record(z.string(), z.unknown()),
      }),
    ),
  }),
  GoogleStatus: z.looseObject({ enabled: z.boolean(), status: z.string(), reason: z.string().optional() }),
  GoogleConnect: z.looseObject({ authorization_url: z.string() }),
  GoogleDisconnect: z.looseObject({}),
  Job: z.object({
    job_id: z.string(),
    state: z.string(),
    attempts_made: z.number().int(),
    failed_reason: z.string().nullable(),
    result: z.unknown(),
  }),
  Queued: z.object({ job_id: z.string(), status: z.literal("queued"), status_url: z.string() }),
  Readiness: z.object({
    status: z.enum(["ready", "unavailable"]),
    checks: z.record(z.string(), z.object({ status: z.enum(["up", "down"]), error: z.string().optional() })),
    down: z.array(z.string()),
  }),
  Health: z.object({ status: z.literal("ok") }),
  Export: z.object({
    user_id: z.string(),
    exported_at: z.string(),
    tiers: z.record(z.string(), z.unknown()),
  }),
  Erasure: z.object({
    user_id: z.string(),
    erased: z.literal(true),
    erased_at: z.string(),
    passes: z.number().int(),
    remaining: z.record(z.string(), z.number().int()),
  }),
  // Cadences (README "Cadences").
  JournalInput,
  JournalEntry: JournalInput.extend({ journal_id: ItemId, at: z.string(), recorded_at: z.string() }),
  JournalPage: z.object({
    items: z.array(JournalInput.extend({ journal_id: ItemId, at: z.string(), recorded_at: z.string() })),
    next_cursor: z.string().nullable(),
  }),
  Digest: z.looseObject({
    user_id: z.string(),
    date: z.string(),
    timezone: z.string(),
    generated_at: z.string(),
    overdue: z.array(z.record(z.string(), z.unknown())),
    due_today: z.array(z.record(z.string(), z.unknown())),
    upcoming: z.array(z.record(z.string(), z.unknown())),
    goals_approaching: z.array(z.record(z.string(), z.unknown())),
    goals_past_target: z.array(z.record(z.string(), z.unknown())),
  }),
  DigestRebuild: z.strictObject({}),
  InferInput: z.strictObject({ text: z.string().min(1).max(2000) }),
  InferResult: z.object({
    source_text: z.string(),
    engine: z.enum(["rules", "llm"]),
    extracted: Extraction,
    writes: z.array(
      z.object({
        element: z.enum(["preferences", "todo", "goal"]),
        id: z.string(),
        status: z.enum(["applied", "unchanged", "queued", "skipped"]),
        job_id: z.string().optional(),
        reason: z.string().optional(),
      }),
    ),
  }),
  Error: z.object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.array(z.object({ field: z.string(), rule: z.string(), message: z.string() })).optional(),
    }),
  }),
};

const list = (doc: string) => {
  const name = `${doc.replace(/Doc$/, "")}List`;
  SCHEMAS[name] ??= z.object({ items: z.array(SCHEMAS[doc] as z.ZodType) });
  return name;
};

function singleton(seg: string, tag: string, base: string): OperationSpec[] {
  const path = `/v1/users/:user_id/${seg}`;
  return [
    { method: "GET", path, summary: `Read the ${tag}`, tag, ok: { 200: `${base}Doc` } },
    {
      method: "PUT",
      path,
      summary: `Replace the ${tag}`,
      tag,
      body: base,
      ok: { 200: `${base}Doc` },
      write: true,
    },
    {
      method: "PATCH",
      path,
      summary: `Change some ${tag} fields (null removes one)`,
      tag,
      body: `${base}Patch`,
      ok: { 200: `${base}Doc` },
      write: true,
    },
  ];
}

function collection(seg: string, tag: string, base: string, query: z.ZodObject): OperationSpec[] {
  const path = `/v1/users/:user_id/${seg}`;
  const one = `${path}/:item_id`;
  const doc = `${base}Doc`;
  return [
    {
      method: "POST",
      path,
      summary: `Create a ${tag}`,
      tag,
      body: `${base}Input`,
      ok: { 201: doc },
      write: true,
    },
    { method: "GET", path, summary: `List ${tag}s`, tag, query, ok: { 200: list(doc) } },
    { method: "GET", path: one, summary: `Read one ${tag}`, tag, ok: { 200: doc } },
    {
      method: "PATCH",
      path: one,
      summary: `Change some ${tag} fields (null removes one)`,
      tag,
      body: `${base}Patch`,
      ok: { 200: doc },
      write: true,
    },
    { method: "DELETE", path: one, summary: `Delete a ${tag}`, tag, ok: { 204: null }, write: true },
  ];
}

export const OPERATIONS: OperationSpec[] = [
  {
    method: "GET",
    path: "/healthz",
    summary: "Process is up",
    tag: "ops",
    ok: { 200: "Health" },
    auth: false,
  },
  {
    method: "GET",
    path: "/readyz",
    summary: "Redis, DynamoDB and the vector index answer (503 names the one that does not)",
    tag: "ops",
    ok: { 200: "Readiness" },
    auth: false,
  },
  {
    method: "GET",
    path: "/metrics",
    summary: "Prometheus metrics (Bearer METRICS_TOKEN when that is set)",
    tag: "ops",
    ok: { 200: null },
    auth: false,
  },
  {
    method: "GET",
    path: "/openapi.json",
    summary: "This document",
    tag: "ops",
    ok: { 200: null },
    auth: false,
  },
  ...singleton("profile", "profile", "Profile"),
  ...singleton("preferences", "preferences", "Preferences"),
  ...singleton("state", "state", "State"),
  ...collection("goals", "goal", "Goal", z.object({ status: z.enum(GOAL_STATUSES).optional() })),
  {
    method: "POST",
    path: "/v1/users/:user_id/goals/:item_id/progress",
    summary: "Append a progress entry to a goal",
    tag: "goal",
    body: "ProgressInput",
    ok: { 201: "GoalDoc" },
    write: true,
  },
  ...collection(
    "todos",
    "todo",
    "Todo",
    z.object({ status: z.enum(TODO_STATUSES).optional(), due_before: dateOrDateTime().optional() }),
  ),
  ...collection(
    "events",
    "event",
    "Event",
    z.object({ from: dateOrDateTime().optional(), to: dateOrDateTime().optional() }),
  ),
  {
    method: "POST",
    path: "/v1/users/:user_id/feedback",
    summary: "Record feedback on a response",
    tag: "feedback",
    body: "FeedbackInput",
    ok: { 201: "Feedback" },
    write: true,
  },
  {
    method: "GET",
    path: "/v1/users/:user_id/feedback",
    summary: "Feedback history, newest first",
    tag: "feedback",
    query: z.object({
      limit: z.coerce.number().int().min(1).max(100).optional(),
      cursor: z.string().optional(),
    }),
    ok: { 200: "FeedbackPage" },
  },
  {
    method: "GET",
    path: "/v1/users/:user_id/feedback/summary",
    summary: "Semantic feedback summary",
    tag: "feedback",
    ok: { 200: "FeedbackSummaryDoc" },
  },
  {
    method: "GET",
    path: "/v1/users/:user_id/context",
    summary: "Per-turn context block (JSON sections and rendered text)",
    tag: "context",
    query: z.object({
      max_chars: z.coerce.number().int().min(100).max(100_000).optional(),
      query: z.string().min(1).max(2000).optional(),
      relevant_k: z.coerce.number().int().min(1).max(50).optional(),
    }),
    ok: { 200: "Context" },
  },
  {
    method: "GET",
    path: "/v1/users/:user_id/search",
    summary: "Semantic search over embedded memory; hits carry the current document",
    tag: "context",
    query: z.object({
      q: z.string().min(1).max(2000),
      elements: z.string().optional(),
      k: z.coerce.number().int().min(1).max(50).optional(),
    }),
    ok: { 200: "SearchResults" },
  },
  {
    method: "GET",
    path: "/v1/users/:user_id/google",
    summary: "Google Calendar connection status (never the tokens)",
    tag: "google calendar",
    ok: { 200: "GoogleStatus" },
  },
  {
    method: "GET",
    path: "/v1/users/:user_id/google/connect",
    summary: "Start the OAuth consent (JSON with the URL, or a 302 to it with redirect=true)",
    tag: "google calendar",
    query: z.object({ redirect: z.enum(["true", "false"]).optional() }),
    ok: { 200: "GoogleConnect", 302: null },
  },
  {
    method: "DELETE",
    path: "/v1/users/:user_id/google",
    summary: "Disconnect Google Calendar (purge=true also deletes synced events)",
    tag: "google calendar",
    query: z.object({ purge: z.enum(["true", "false"]).optional() }),
    ok: { 200: "GoogleDisconnect" },
  },
  {
    method: "GET",
    path: "/v1/oauth/google/callback",
    summary: "OAuth redirect target (the signed state is the credential)",
    tag: "google calendar",
    ok: { 200: "GoogleStatus" },
    auth: false,
    when: "Google Calendar is configured",
  },
  {
    method: "POST",
    path: "/v1/webhooks/google/calendar",
    summary: "Google push notifications (the channel token is the credential)",
    tag: "google calendar",
    ok: { 204: null },
    auth: false,
    when: "Google Calendar is configured",
  },
  {
    method: "GET",
    path: "/v1/users/:user_id/export",
    summary: "Everything held about the user, as one document (never credentials)",
    tag: "user data",
    ok: { 200: "Export" },
  },
  {
    method: "DELETE",
    path: "/v1/users/:user_id",
    summary: "Erase the user from every tier and queue; idempotent, answers when done",
    tag: "user data",
    ok: { 200: "Erasure" },
  },
  {
    method: "POST",
    path: "/v1/users/:user_id/journal",
    summary: "Write a journal entry (triggers the post-journal summarizer, deduplicated)",
    tag: "cadences",
    body: "JournalInput",
    ok: { 201: "JournalEntry" },
    write: true,
  },
  {
    method: "GET",
    path: "/v1/users/:user_id/journal",
    summary: "Journal entries, newest first",
    tag: "cadences",
    query: z.object({
      limit: z.coerce.number().int().min(1).max(100).optional(),
      cursor: z.string().optional(),
    }),
    ok: { 200: "JournalPage" },
  },
  {
    method: "GET",
    path: "/v1/users/:user_id/digest",
    summary: "The latest stored morning digest",
    tag: "cadences",
    ok: { 200: "Digest" },
  },
  {
    method: "POST",
    path: "/v1/users/:user_id/digest",
    summary: "Rebuild and store today's digest now (published once per local day)",
    tag: "cadences",
    body: "DigestRebuild",
    ok: { 201: "Digest" },
  },
  {
    method: "POST",
    path: "/v1/users/:user_id/infer",
    summary: "Extract preferences, to-dos and goals from an utterance and write them with provenance",
    tag: "cadences",
    body: "InferInput",
    query: z.object({ wait: z.enum(["true", "false"]).optional() }),
    ok: { 200: "InferResult", 202: "InferResult" },
  },
  {
    method: "GET",
    path: "/v1/jobs/:job_id",
    summary: "State of a queued write",
    tag: "jobs",
    ok: { 200: "Job" },
  },
];
