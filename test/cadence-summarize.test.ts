import type { Job, Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CadenceServices } from "../src/cadence/services.js";
import { type StepDeps, stateStep } from "../src/cadence/steps.js";
import { startTestSystem, type TestSystem } from "./support/system.js";

const DAY = 86_400_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

async function until<T>(f: () => Promise<T | undefined | false>, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function finished(q: Queue, id: string): Promise<Job> {
  return until(async () => {
    const j = await q.getJob(id);
    const s = await j?.getState();
    return s === "completed" || s === "failed" ? j : undefined;
  }, `job ${id}`);
}

describe("summarizers (offline rules) through the workers", () => {
  let t: TestSystem;
  let c: CadenceServices;
  let steps: StepDeps;
  beforeAll(async () => {
    t = await startTestSystem({ env: { CADENCE_SCHEDULES: "off", SUMMARIZER_ENGINE: "rules" } });
    c = t.system.deps.cadence as CadenceServices;
    const d = t.system.deps;
    steps = { store: d.store, hot: d.hot, persist: d.persist, cadence: c, now: d.now };
  });
  afterAll(async () => t?.stop());

  describe("journal", () => {
    it("stores entries and pages them newest first", async () => {
      for (const [i, h] of [3, 2, 1].entries()) {
        const r = await t.api("POST", "/v1/users/j1/journal", { text: `entry ${i}`, at: ago(h * 3_600_000) });
        expect(r.status).toBe(201);
        expect(r.body.journal_id).toMatch(/^[0-9a-f-]{36}$/);
      }
      const p1 = await t.api("GET", "/v1/users/j1/journal?limit=2");
      expect(p1.body.items.map((e: { text: string }) => e.text)).toEqual(["entry 2", "entry 1"]);
      expect(p1.body.next_cursor).toEqual(expect.any(String));
      const p2 = await t.api("GET", `/v1/users/j1/journal?limit=2&cursor=${p1.body.next_cursor}`);
      expect(p2.body.items.map((e: { text: string }) => e.text)).toEqual(["entry 0"]);
      expect(p2.body.next_cursor).toBeNull();
      expect(Object.keys(p2.body.items[0]).sort()).toEqual(["at", "journal_id", "recorded_at", "text"]);
    });

    it("validates entries and keeps them out of the document refill", async () => {
      const future = new Date(Date.now() + DAY).toISOString();
      const bad = await t.api("POST", "/v1/users/j1/journal", { text: "x", at: future });
      expect(bad.status).toBe(400);
      expect(bad.body.error.details[0]).toMatchObject({ field: "body.at", rule: "in_future" });
      expect((await t.api("POST", "/v1/users/j1/journal", { text: "" })).status).toBe(400);
      expect((await t.api("POST", "/v1/users/j1/journal", { text: "x", mood: "y" })).status).toBe(400);
      expect((await t.api("GET", "/v1/users/j1/journal", undefined, { token: null })).status).toBe(401);
      const docs = await t.system.deps.store.loadUser("j1");
      expect(docs.filter((d) => String(d.element) === "journal")).toHaveLength(0);
    });

    it("ten entries in a minute trigger one post-journal run, which updates the state", async () => {
      const texts = [
        "Feeling stressed about the product launch next week.",
        "Finally finished the quarterly report! Really proud of that.",
        "Missed my morning run again.",
        "Working on my presentation skills.",
        "Struggling with sleep lately.",
        "Had coffee with Sam.",
        "Nothing much today.",
        "Read a chapter of my book.",
        "Cooked dinner.",
        "I'm feeling pretty tired tonight.",
      ];
      for (const [i, text] of texts.entries()) {
        const r = await t.api("POST", "/v1/users/j2/journal", { text, at: ago((10 - i) * 60_000) });
        expect(r.status).toBe(201);
      }
      const jobs = (await c.queues.summarize.getJobs(["delayed", "waiting", "active", "completed"])).filter(
        (j) => j.data.user_id === "j2",
      );
      expect(jobs).toHaveLength(1);
      expect(jobs[0]?.name).toBe("journal");
      await jobs[0]?.promote(); // its debounce delay is a minute; no need to wait it out here
      const done = await finished(c.queues.summarize, jobs[0]?.id as string);
      expect(done.returnvalue).toEqual({ steps: { state: expect.stringMatching(/^updated /) } });
      const state = (await t.api("GET", "/v1/users/j2/state")).body;
      expect(state.mood).toBe("tired");
      expect(state.recent_wins).toEqual(["Finally finished the quarterly report"]);
      expect(state.recent_losses).toEqual(["Missed my morning run again"]);
      // Newest first.
      expect(state.pain_points).toEqual(["sleep", "the product launch next week"]);
      expect(state.focus_areas).toEqual(["my presentation skills"]);
      // Re-running changes nothing.
      const before = state.version;
      expect(await stateStep(steps, "j2")).toBe("no change");
      expect((await t.api("GET", "/v1/users/j2/state")).body.version).toBe(before);
    });

    it("an explicit edit newer than the journal entry wins; a newer entry wins over the edit", async () => {
      await t.api("POST", "/v1/users/j3/journal", {
        text: "I'm feeling exhausted. Finally shipped the app.",
        at: ago(2 * 3_600_000),
      });
      // The user says otherwise after that entry was written about.
      expect((await t.api("PATCH", "/v1/users/j3/state", { mood: "energized" })).status).toBe(200);
      expect(await stateStep(steps, "j3")).toBe("updated recent_wins");
      let s = (await t.api("GET", "/v1/users/j3/state")).body;
      expect(s.mood).toBe("energized");
      expect(s.recent_wins).toEqual(["Finally shipped the app"]);
      // A later entry is newer than the edit: it decides the mood now.
      await t.api("POST", "/v1/users/j3/journal", { text: "Now I'm anxious about tomorrow." });
      await until(async () => (await c.store.listJournal("j3", 10)).items.length === 2, "second entry");
      expect(await stateStep(steps, "j3")).toBe("updated mood, pain_points");
      s = (await t.api("GET", "/v1/users/j3/state")).body;
      expect(s.mood).toBe("anxious");
      expect(s.pain_points).toEqual(["tomorrow"]);
      expect(s.recent_wins).toEqual(["Finally shipped the app"]);
    });
  });

  describe("nightly run", () => {
    let goalId: string;
    beforeAll(async () => {
      const g = await t.api("POST", "/v1/users/n1/goals", {
        title: "Run a half marathon",
        target_date: "2030-05-01",
      });
      goalId = g.body.goal_id;
      const progress: [number, string, number][] = [
        [40, "Ran 5k without stopping", 10],
        [33, "First 10k", 30],
        [20, "Joined a running club", 45],
        [2, "Ran 15k", 70],
      ];
      for (const [days, note, percent] of progress) {
        const r = await t.api("POST", `/v1/users/n1/goals/${goalId}/progress`, {
          note,
          percent,
          at: ago(days * DAY),
        });
        expect(r.status).toBe(201);
      }
      const feedback: [number, string[], string?][] = [
        [5, ["concise"], "Loved the short answer"],
        [4, ["concise", "friendly"]],
        [2, ["jargon"], "Too technical"],
        [3, ["suggestion"], "Could you add an example next time?"],
        [1, ["jargon", "long"]],
      ];
      for (const [rating, tags, comments] of feedback) {
        const r = await t.api("POST", "/v1/users/n1/feedback", {
          interaction_id: `i${rating}`,
          rating,
          tags,
          ...(comments ? { comments } : {}),
        });
        expect(r.status).toBe(201);
      }
    });

    async function runNightly(date: string, attempt = "") {
      const id = `nightly.n1.${date}${attempt}`;
      await c.queues.addNightly([
        { data: { kind: "nightly", user_id: "n1", local_date: date }, jobId: id, delay: 0 },
      ]);
      return finished(c.queues.summarize, id);
    }

    it("condenses old goal progress, keeps recent entries, rebuilds the feedback summary", async () => {
      const job = await runNightly("2025-02-01");
      expect(job.returnvalue.steps).toEqual({
        goals: "condensed 1 goal(s)",
        state: "no new journal entries",
        feedback: "rebuilt from 5 record(s)",
      });
      const goal = (await t.api("GET", `/v1/users/n1/goals/${goalId}`)).body;
      expect(goal.progress.map((p: { note: string }) => p.note)).toEqual(["Ran 15k"]);
      expect(goal.progress_summary).toMatch(
        /^\d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}: 3 updates, 10% to 45%; latest: Joined a running club \/ First 10k \/ Ran 5k without stopping$/,
      );
      const ctx = (await t.api("GET", "/v1/users/n1/context")).body;
      expect(ctx.text).toContain("progress so far: ");
      expect(ctx.text).toContain("latest: Ran 15k (70%)");
      const fb = (await t.api("GET", "/v1/users/n1/feedback/summary")).body;
      expect(fb.positives).toEqual([
        "concise (2 positive ratings)",
        "friendly (1 positive rating)",
        "Loved the short answer",
      ]);
      expect(fb.negatives).toEqual([
        "jargon (2 negative ratings)",
        "long (1 negative rating)",
        "Too technical",
      ]);
      expect(fb.suggestions).toEqual(["Could you add an example next time?"]);
    });

    it("re-running the same night changes nothing, with or without its completion markers", async () => {
      const goalV = (await t.api("GET", `/v1/users/n1/goals/${goalId}`)).body.version;
      const fbV = (await t.api("GET", "/v1/users/n1/feedback/summary")).body.version;
      const again = await runNightly("2025-02-01", ".retry");
      expect(again.returnvalue.steps).toEqual({
        goals: "already done",
        state: "already done",
        feedback: "already done",
      });
      await c.redis.del(`${t.system.deps.hot.base("n1")}cadence`);
      const fresh = await runNightly("2025-02-01", ".nomarkers");
      expect(fresh.returnvalue.steps).toEqual({
        goals: "nothing to condense",
        state: "no new journal entries",
        feedback: "no change",
      });
      expect((await t.api("GET", `/v1/users/n1/goals/${goalId}`)).body.version).toBe(goalV);
      expect((await t.api("GET", "/v1/users/n1/feedback/summary")).body.version).toBe(fbV);
    });

    it("progress appended after the summarizer read it is kept", async () => {
      // The condense write names the entries it drops; anything else survives it.
      const r = await t.api("POST", `/v1/users/n1/goals/${goalId}/progress`, {
        note: "Old note found later",
        at: ago(50 * DAY),
      });
      expect(r.status).toBe(201);
      const job = await runNightly("2025-02-02");
      expect(job.returnvalue.steps.goals).toBe("condensed 1 goal(s)");
      const goal = (await t.api("GET", `/v1/users/n1/goals/${goalId}`)).body;
      expect(goal.progress.map((p: { note: string }) => p.note)).toEqual(["Ran 15k"]);
      expect(goal.progress_summary).toMatch(/ \| .*1 update; latest: Old note found later$/);
    });

    it("skips users no longer in the index (erased)", async () => {
      await c.index.remove("gone");
      const id = "nightly.gone.2025-02-01";
      await c.queues.addNightly([
        { data: { kind: "nightly", user_id: "gone", local_date: "2025-02-01" }, jobId: id, delay: 0 },
      ]);
      expect((await finished(c.queues.summarize, id)).returnvalue).toEqual({
        steps: { all: "unknown user (erased?)" },
      });
    });
  });
});
