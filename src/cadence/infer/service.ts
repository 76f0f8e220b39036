import type { PersistPayload } from "../../../queues/persist.js";
import type { EnqueueOutcome, PersistQueue, WriteRequest } from "../../../queues/persist-queue.js";
import type { HotStore } from "../../repositories/redis-hot.js";
import type { Provenance } from "../../services/provenance.js";
import type { MemoryReader } from "../../services/reader.js";
import { localDate, shortHash, zoneOf } from "../clock.js";
import type { EngineKind, StructuredModel } from "../llm.js";
import { rulesExtract } from "./rules.js";
import { Extraction } from "./types.js";

export interface InferDeps {
  reader: MemoryReader;
  hot: HotStore;
  persist: PersistQueue;
  engine: EngineKind;
  model?: StructuredModel;
  now: () => Date;
}

export interface InferWrite {
  element: "preferences" | "todo" | "goal";
  id: string;
  status: "applied" | "unchanged" | "queued" | "skipped";
  job_id?: string;
  reason?: string;
}

const norm = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .trim();

async function extract(d: InferDeps, text: string, today: string): Promise<Extraction> {
  if (d.engine === "llm" && d.model) {
    return d.model.generate(
      Extraction,
      "memory_extraction",
      `You extract memory from one thing a user said to their AI companion. Today is ${today} in the user's timezone. Return: preferences (field is one of food_preferences, sport_preferences, hobby_preferences, languages, travel_styles, occupation; value is a short lowercase phrase, languages capitalised), todos (tasks the user wants to do or be reminded of, with due_date YYYY-MM-DD when a date is stated or implied, e.g. "before March" is the last day of February), goals (longer-term aims, with target_date when stated). confidence is 0..1: how sure you are the user meant it. Extract only what the user said about themselves; return empty lists when nothing applies.`,
      text,
    );
  }
  return rulesExtract(text, today);
}

/**
 * Extracts preferences, to-dos and goals from an utterance and enqueues them as writes with
 * provenance (source text, confidence, inferred). Ids derive from the content and the local
 * date, so the same utterance sent twice that day creates nothing new; an existing open to-do or goal with the same
 * text is left alone; preference merges never replace explicit values (apply.ts "infer").
 */
export async function inferFromText(
  d: InferDeps,
  user: string,
  text: string,
  opts: { wait: boolean },
): Promise<{ engine: EngineKind; extracted: Extraction; writes: InferWrite[] }> {
  const now = d.now();
  const profile = await d.reader.get(user, "profile", "self");
  const today = localDate(zoneOf(profile?.data.timezone), now);
  const extracted = await extract(d, text, today);
  const at = now.toISOString();
  const base = { inferred: true as const, source_text: text, at, engine: d.engine };
  const writes: InferWrite[] = [];
  const submit = async (w: WriteRequest, key: string): Promise<EnqueueOutcome> => {
    const seq = await d.hot.nextSeq(user);
    return d.persist.enqueue({ ...w, seq } as PersistPayload, { wait: opts.wait, idempotencyKey: key });
  };
  const status = (o: EnqueueOutcome): InferWrite["status"] =>
    o.pending ? "queued" : o.result?.applied ? "applied" : "unchanged";

  if (extracted.preferences.length) {
    const data: Record<string, unknown> = {};
    const confidence: Record<string, number> = {};
    for (const p of extracted.preferences) {
      if (p.field === "occupation") {
        if ((confidence.occupation ?? -1) < p.confidence) data.occupation = p.value;
      } else data[p.field] = [...((data[p.field] as string[] | undefined) ?? []), p.value];
      confidence[p.field] = Math.max(confidence[p.field] ?? 0, p.confidence);
    }
    const o = await submit(
      {
        op: "infer",
        element: "preferences",
        user_id: user,
        data,
        provenance: { source_text: text, at, engine: d.engine, confidence },
      },
      `infer.pref.${today}.${shortHash(JSON.stringify(data))}`,
    );
    writes.push({ element: "preferences", id: "self", status: status(o), job_id: o.job_id });
  }

  const open = (docs: { data: Record<string, unknown> }[], field: string, done: string[]) =>
    new Set(
      docs.filter((x) => !done.includes(String(x.data.status))).map((x) => norm(String(x.data[field] ?? ""))),
    );
  const todoTexts = extracted.todos.length
    ? open(await d.reader.list(user, "todo"), "text", ["done", "cancelled"])
    : new Set<string>();
  for (const t of extracted.todos) {
    const id = `inf-${shortHash(`todo\n${today}\n${norm(t.text)}`, 24)}`;
    if (todoTexts.has(norm(t.text))) {
      writes.push({ element: "todo", id, status: "skipped", reason: "an open to-do with this text exists" });
      continue;
    }
    const provenance: Provenance = { ...base, confidence: t.confidence };
    const data = { text: t.text, ...(t.due_date ? { due_date: t.due_date } : {}), provenance };
    const o = await submit({ op: "create", element: "todo", user_id: user, id, data }, `infer.todo.${id}`);
    writes.push({ element: "todo", id, status: status(o), job_id: o.job_id });
  }

  const goalTitles = extracted.goals.length
    ? open(await d.reader.list(user, "goal"), "title", ["completed", "abandoned"])
    : new Set<string>();
  for (const g of extracted.goals) {
    const id = `inf-${shortHash(`goal\n${today}\n${norm(g.title)}`, 24)}`;
    if (goalTitles.has(norm(g.title))) {
      writes.push({ element: "goal", id, status: "skipped", reason: "an open goal with this title exists" });
      continue;
    }
    const provenance: Provenance = { ...base, confidence: g.confidence };
    const data = { title: g.title, ...(g.target_date ? { target_date: g.target_date } : {}), provenance };
    const o = await submit({ op: "create", element: "goal", user_id: user, id, data }, `infer.goal.${id}`);
    writes.push({ element: "goal", id, status: status(o), job_id: o.job_id });
  }
  return { engine: d.engine, extracted, writes };
}
