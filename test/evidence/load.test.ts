import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMemorySystem } from "../support/memory.js";
import type { TestSystem } from "../support/system.js";

/**
 * Bounded load on loopback: W concurrent writers over M users, mixed element writes (to-dos,
 * goal progress, feedback with comments, state) and context reads. Bounded by count (OPS per
 * writer) and by time (no new operation after BUDGET_MS). Nothing acknowledged is lost or
 * doubled; every context read shows every to-do, progress entry and feedback comment acknowledged
 * before the read began (unless listed as omitted, or pushed out of the capped summary) and
 * nothing this user never sent; its state is never older, by write sequence, than a state write
 * acknowledged before the read began. Afterwards the final state is this user's write with the
 * highest sequence (field-level last-writer-wins), and everything matches in DynamoDB and in Redis
 * after read-through.
 */
const USERS = Number(process.env.LOAD_USERS ?? 16);
const WRITERS = Number(process.env.LOAD_WRITERS ?? 32);
const OPS = Number(process.env.LOAD_OPS ?? 40);
const BUDGET_MS = 90_000;
/** Feedback summary lists keep the newest 20 (src/services/feedback-summary.ts). */
const SUMMARY_KEEP = 20;
/** The context block holds at most the first 500 to-dos (README "Limits"). */
const CONTEXT_CAP = 500;

type SummaryList = "positives" | "negatives";

interface StateWrite {
  mood: string;
  rid: string;
  sentAt: number;
  ackAt: number;
  version: number;
}

interface UserLog {
  todos: Map<string, string>; // id -> text, acknowledged
  sentTodos: Set<string>; // every to-do text ever sent
  progress: string[]; // acknowledged notes
  sentProgress: Set<string>;
  feedback: string[]; // acknowledged interaction ids
  comments: Map<string, SummaryList>; // acknowledged comment -> the summary list it belongs in
  sentComments: Set<string>;
  states: StateWrite[]; // acknowledged
  sentMoods: Set<string>;
}

/** A context read's state, checked against write sequence numbers once the run is over. */
interface StateRead {
  user: string;
  mood: string;
  /** Request ids of the state writes acknowledged before the read began. */
  before: string[];
}

interface Wire {
  todo_id?: string;
  goal_id?: string;
  text?: string;
  progress?: { note: string }[];
  version?: number;
}

describe("load: concurrent writers and readers", () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startMemorySystem({ env: { CADENCE_SCHEDULES: "off" } });
  });
  afterAll(async () => t?.stop());

  it("loses nothing, duplicates nothing, reads are consistent with acknowledged writes", {
    timeout: 240_000,
  }, async () => {
    const users = Array.from({ length: USERS }, (_, i) => `load-${i}`);
    const goals = new Map<string, string>();
    const logs = new Map<string, UserLog>();
    for (const u of users) {
      const g = await t.api("POST", `/v1/users/${u}/goals`, { title: `Goal of ${u}` });
      expect(g.status).toBe(201);
      goals.set(u, g.body.goal_id);
      logs.set(u, {
        todos: new Map(),
        sentTodos: new Set(),
        progress: [],
        sentProgress: new Set(),
        feedback: [],
        comments: new Map(),
        sentComments: new Set(),
        states: [],
        sentMoods: new Set(),
      });
    }
    const log = (u: string) => logs.get(u) as UserLog;
    const ops = { todos: 0, progress: 0, feedback: 0, state: 0, context: 0 };
    // Per context read, what was acknowledged before it began and was found (or legitimately not).
    const checked = {
      todos: 0,
      todos_omitted: 0,
      progress: 0,
      goal_omitted: 0,
      comments: 0,
      comments_capped: 0,
      state: 0,
      shown_verified: 0,
      capped_reads: 0,
    };
    const stateReads: StateRead[] = [];
    const start = performance.now();

    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = 0; i < OPS && performance.now() - start < BUDGET_MS; i++) {
          const u = users[(w * 7 + i) % USERS] as string;
          const a = log(u);
          const tag = `w${w}-${i}`;
          switch (i % 5) {
            case 0: {
              ops.todos++;
              a.sentTodos.add(`todo ${tag}`);
              const r = await t.api("POST", `/v1/users/${u}/todos`, { text: `todo ${tag}` });
              expect(r.status).toBe(201);
              a.todos.set(r.body.todo_id, `todo ${tag}`);
              break;
            }
            case 1: {
              ops.progress++;
              a.sentProgress.add(`step ${tag}`);
              const r = await t.api("POST", `/v1/users/${u}/goals/${goals.get(u)}/progress`, {
                note: `step ${tag}`,
              });
              expect(r.status).toBe(201);
              a.progress.push(`step ${tag}`);
              break;
            }
            case 2: {
              ops.feedback++;
              // 4-5 lands in positives, 1-2 in negatives (3 in neither: not sent here).
              const rating = [1, 2, 4, 5][(w + i) % 4] as number;
              const comment = `comment ${tag}`;
              a.sentComments.add(comment);
              const r = await t.api("POST", `/v1/users/${u}/feedback`, {
                interaction_id: tag,
                rating,
                comments: comment,
              });
              expect(r.status).toBe(201);
              a.feedback.push(tag);
              a.comments.set(comment, rating >= 4 ? "positives" : "negatives");
              break;
            }
            case 3: {
              ops.state++;
              const mood = `mood ${tag}`;
              const rid = `state-${tag}`;
              a.sentMoods.add(mood);
              const sentAt = performance.now();
              const r = await t.api(
                "PATCH",
                `/v1/users/${u}/state`,
                { mood },
                { headers: { "x-request-id": rid } },
              );
              expect(r.status).toBe(200);
              a.states.push({ mood, rid, sentAt, ackAt: performance.now(), version: r.body.version });
              break;
            }
            default: {
              ops.context++;
              // What was acknowledged before the read began.
              const knownTodos = [...a.todos.keys()];
              const knownProgress = [...a.progress];
              const knownComments = [...a.comments];
              const knownStates = [...a.states];
              // Every other read trims the block, so items are left out and must be listed as omitted.
              const trim = (w + i) % 2 === 0;
              const r = await t.api("GET", `/v1/users/${u}/context${trim ? "?max_chars=150" : ""}`);
              expect(r.status).toBe(200);
              const s = r.body.sections;
              const omitted = (section: string) =>
                new Set<string>(
                  r.body.omitted.find((o: { section: string }) => o.section === section)?.keys ?? [],
                );

              // To-dos: everything acknowledged is shown or omitted; nothing shown was never sent.
              const shown = new Map<string, string>(s.todos.map((x: Wire) => [x.todo_id, x.text]));
              const omittedTodos = omitted("todos");
              expect(shown.size, `${u} shows a to-do twice`).toBe(s.todos.length);
              for (const id of omittedTodos) expect(shown.has(id), `${u} omits a shown to-do`).toBe(false);
              if (shown.size + omittedTodos.size < CONTEXT_CAP) {
                for (const id of knownTodos)
                  expect(
                    shown.has(id) || omittedTodos.has(id),
                    `${u} context misses acknowledged to-do ${id}`,
                  ).toBe(true);
                checked.todos += knownTodos.length;
                checked.todos_omitted += knownTodos.filter((id) => omittedTodos.has(id)).length;
              } else checked.capped_reads++;
              for (const text of shown.values())
                expect(a.sentTodos.has(text), `${u} shows unknown ${text}`).toBe(true);
              checked.shown_verified += shown.size;

              // Progress entries of the user's goal: the goal is shown (or omitted) with every acknowledged entry.
              const goal = (s.goals as Wire[]).find((g) => g.goal_id === goals.get(u));
              if (!goal) {
                expect(omitted("goals").has(goals.get(u) as string), `${u} context misses its goal`).toBe(
                  true,
                );
                checked.goal_omitted++;
              } else {
                const notes = (goal.progress ?? []).map((p) => p.note);
                expect(new Set(notes).size, `${u} shows a progress entry twice`).toBe(notes.length);
                for (const n of notes)
                  expect(a.sentProgress.has(n), `${u} shows unknown progress ${n}`).toBe(true);
                for (const n of knownProgress)
                  expect(notes.includes(n), `${u} context misses acknowledged progress ${n}`).toBe(true);
                checked.progress += knownProgress.length;
                checked.shown_verified += notes.length;
              }

              // Feedback summary: the JSON section is never trimmed; a list keeps only the newest 20.
              const fb = s.feedback_summary as Record<SummaryList, string[]> | null;
              if (knownComments.length) expect(fb, `${u} context has no feedback summary`).not.toBeNull();
              for (const list of ["positives", "negatives"] as const) {
                const entries = fb?.[list] ?? [];
                expect(new Set(entries).size, `${u} ${list} lists a comment twice`).toBe(entries.length);
                for (const c of entries) {
                  expect(a.sentComments.has(c), `${u} ${list} shows unknown ${c}`).toBe(true);
                  expect(a.comments.get(c) ?? list, `${u} ${c} in the wrong list`).toBe(list);
                }
                checked.shown_verified += entries.length;
                for (const [c, want] of knownComments) {
                  if (want !== list) continue;
                  if (entries.includes(c)) checked.comments++;
                  else {
                    expect(entries.length, `${u} ${list} misses acknowledged ${c} and is not full`).toBe(
                      SUMMARY_KEEP,
                    );
                    checked.comments_capped++;
                  }
                }
              }

              // State: once a state write was acknowledged, one of this user's moods, never an older version.
              const st = s.current_state as { mood?: string; version?: number } | null;
              if (knownStates.length) {
                expect(st?.mood, `${u} context lost its state`).toBeDefined();
                expect(a.sentMoods.has(st?.mood as string), `${u} shows mood ${st?.mood} it never sent`).toBe(
                  true,
                );
                const newest = Math.max(...knownStates.map((x) => x.version));
                expect(st?.version, `${u} state older than an acknowledged one`).toBeGreaterThanOrEqual(
                  newest,
                );
                stateReads.push({ user: u, mood: st?.mood as string, before: knownStates.map((x) => x.rid) });
                checked.state++;
              } else if (st?.mood !== undefined)
                expect(a.sentMoods.has(st.mood), `${u} shows mood ${st.mood} it never sent`).toBe(true);
            }
          }
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    const after = performance.now();

    // Write sequence numbers, from the persist jobs (each carries its request id and `seq`).
    const jobs = await t.system.deps.persist.queue.getJobs(["completed"], 0, -1);
    const seqOfRequest = new Map<string, number>();
    const seqOfMood = new Map<string, number>();
    for (const j of jobs) {
      const d = j.data as { request_id?: string; seq: number; element?: string; data?: { mood?: string } };
      if (d.request_id?.startsWith("state-")) {
        seqOfRequest.set(d.request_id, d.seq);
        if (d.data?.mood) seqOfMood.set(d.data.mood, d.seq);
      }
    }
    const stateWrites = [...logs.values()].reduce((n, a) => n + a.states.length, 0);
    expect(seqOfRequest.size, "every acknowledged state write has its job").toBe(stateWrites);
    // Field-level last-writer-wins: a read never shows a mood older than one acknowledged before it.
    for (const r of stateReads) {
      const shown = seqOfMood.get(r.mood) as number;
      const newest = Math.max(...r.before.map((rid) => seqOfRequest.get(rid) as number));
      expect(
        shown,
        `${r.user} read ${r.mood}, older than a state acknowledged before the read`,
      ).toBeGreaterThanOrEqual(newest);
    }

    const final = { todos: 0, progress: 0, feedback: 0, comments: 0 };
    for (const u of users) {
      const a = log(u);
      const want = [...a.todos.values()].sort();
      const todos = await t.api("GET", `/v1/users/${u}/todos`);
      expect(todos.body.items.map((x: Wire) => x.text).sort()).toEqual(want);
      // DynamoDB: exactly the acknowledged to-dos, each at version 1 (created once, never changed).
      const stored = await t.system.deps.store.loadUser(u);
      const storedTodos = stored.filter((d) => d.element === "todo");
      expect(new Map(storedTodos.map((d) => [d.id, d.data.text]))).toEqual(a.todos);
      for (const d of storedTodos) expect(d.rev, `${u} to-do ${d.id} version`).toBe(1);
      const goal = await t.system.deps.store.get(u, "goal", goals.get(u) as string);
      const notes = ((goal?.data.progress as { note: string }[]) ?? []).map((p) => p.note).sort();
      expect(notes).toEqual([...a.progress].sort());
      expect(goal?.rev, "goal version = 1 + progress entries").toBe(1 + a.progress.length);
      const fb = await t.system.deps.store.allFeedback(u);
      expect(fb.map((x) => x.interaction_id).sort()).toEqual([...a.feedback].sort());
      // The summary counted each acknowledged feedback exactly once; its lists hold the newest 20.
      const summary = await t.system.deps.store.get(u, "feedback_summary");
      if (a.feedback.length)
        expect(summary?.rev, `${u} summary counted once per feedback`).toBe(a.feedback.length);
      for (const list of ["positives", "negatives"] as const) {
        const mine = [...a.comments].filter(([, l]) => l === list).map(([c]) => c);
        const entries = (summary?.data[list] as string[] | undefined) ?? [];
        expect(entries.length, `${u} ${list}`).toBe(Math.min(SUMMARY_KEEP, mine.length));
        for (const c of entries) expect(mine, `${u} ${list}`).toContain(c);
      }
      // State: the write with the highest sequence number wins, and it is one of this user's.
      let mood: string | undefined;
      if (a.states.length) {
        const state = await t.system.deps.store.get(u, "state");
        const winner = a.states.reduce((x, y) =>
          (seqOfRequest.get(x.rid) as number) > (seqOfRequest.get(y.rid) as number) ? x : y,
        );
        expect(state?.data.mood, `${u} final mood`).toBe(winner.mood);
        expect(state?.fv.mood, `${u} final mood's sequence`).toBe(seqOfRequest.get(winner.rid));
        // Sequence follows real time: no state write of this user began after the winner was acknowledged.
        for (const x of a.states)
          expect(x.sentAt, `${u} ${x.rid} sent after the winner`).toBeLessThan(winner.ackAt);
        expect(state?.rev).toBeGreaterThanOrEqual(1);
        expect(state?.rev).toBeLessThanOrEqual(a.states.length);
        mood = winner.mood;
      }

      // Redis after read-through agrees with DynamoDB: to-dos, progress, feedback summary, state.
      await t.system.deps.hot.forgetUser(u);
      const again = await t.api("GET", `/v1/users/${u}/todos`);
      expect(again.body.items.map((x: Wire) => x.text).sort()).toEqual(want);
      for (const x of again.body.items as Wire[]) expect(x.version, `${u} to-do ${x.todo_id}`).toBe(1);
      const g = await t.api("GET", `/v1/users/${u}/goals/${goals.get(u)}`);
      expect(((g.body.progress ?? []) as { note: string }[]).map((p) => p.note).sort()).toEqual(notes);
      expect(g.body.version).toBe(1 + a.progress.length);
      if (a.feedback.length) {
        const s = await t.api("GET", `/v1/users/${u}/feedback/summary`);
        expect(s.status).toBe(200);
        expect(s.body.version).toBe(summary?.rev);
        for (const list of ["positives", "negatives"] as const)
          expect(s.body[list]).toEqual(summary?.data[list]);
      }
      if (mood !== undefined) expect((await t.api("GET", `/v1/users/${u}/state`)).body.mood).toBe(mood);
      final.todos += a.todos.size;
      final.progress += a.progress.length;
      final.feedback += a.feedback.length;
      final.comments += a.comments.size;
    }
    const total = Object.values(ops).reduce((x, y) => x + y, 0);
    const found = checked.todos + checked.progress + checked.comments + checked.state;
    console.log(
      `load: ${WRITERS} writers x ${USERS} users, ${total} operations in ${seconds.toFixed(1)} s ` +
        `(${ops.todos} to-dos, ${ops.progress} progress, ${ops.feedback} feedback, ${ops.state} state, ` +
        `${ops.context} context reads); acknowledged: ${final.todos} to-dos, ${final.progress} progress entries, ` +
        `${final.feedback} feedback (${final.comments} comments), ${stateWrites} state writes. ` +
        `${ops.context} context reads checked ${found} items acknowledged before the read began ` +
        `(${checked.todos} to-dos, ${checked.todos_omitted} of them listed as omitted; ${checked.progress} progress ` +
        `entries; ${checked.comments} comments shown, ${checked.comments_capped} pushed out of a full summary list; ` +
        `${checked.state} states at or after the newest acknowledged by sequence); ${checked.goal_omitted} goals ` +
        `omitted, ${checked.capped_reads} reads at the to-do cap; ${checked.shown_verified} shown items verified ` +
        `as sent by that user; 0 lost, 0 duplicated (final checks ${((performance.now() - after) / 1000).toFixed(1)} s)`,
    );
    expect(ops.context).toBeGreaterThan(0);
    expect(checked.todos).toBeGreaterThan(0);
    expect(checked.progress + checked.comments + checked.state).toBeGreaterThan(0);
  });
});
