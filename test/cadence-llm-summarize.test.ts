import type { Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CadenceServices } from "../src/cadence/services.js";
import {
  type ChatRequest,
  lastUserText,
  type OpenAiServer,
  startOpenAiServer,
} from "./support/openai-server.js";
import { startTestSystem, type TestSystem } from "./support/system.js";

async function until<T>(f: () => Promise<T | undefined | false>, what: string, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const isState = (r: ChatRequest) => String(r.messages[0]?.content).includes("current-state profile");

describe("summarizers on the LLM path (local chat-completions server)", () => {
  let server: OpenAiServer;
  let t: TestSystem;
  let c: CadenceServices;

  beforeAll(async () => {
    server = await startOpenAiServer();
    t = await startTestSystem({
      env: {
        CADENCE_SCHEDULES: "off",
        SUMMARIZER_ENGINE: "llm",
        OPENAI_BASE_URL: server.url,
        OPENAI_API_KEY: "sk-local",
        CHAT_MODEL: "local-model",
        LLM_MAX_RETRIES: "0",
        LLM_TIMEOUT_MS: "5000",
      },
    });
    c = t.system.deps.cadence as CadenceServices;
  });
  afterAll(async () => {
    await t?.stop();
    await server?.close();
  });

  /** Writes a journal entry and runs the post-journal job it queued (promoted past its debounce). */
  async function journalRun(user: string, text: string): Promise<Job> {
    expect((await t.api("POST", `/v1/users/${user}/journal`, { text })).status).toBe(201);
    const job = await until(
      async () =>
        (await c.queues.summarize.getJobs(["delayed"])).find(
          (j) => j.data.user_id === user && j.name === "journal",
        ),
      "post-journal job",
    );
    await job.promote();
    return until(async () => {
      const j = await c.queues.summarize.getJob(job.id as string);
      const s = await j?.getState();
      return s === "completed" || s === "failed" ? j : undefined;
    }, `job ${job.id}`);
  }

  it("valid structured output updates the state; the prompt carries the entries", async () => {
    server.setChat((req) =>
      isState(req)
        ? { content: JSON.stringify({ mood: "hopeful", recent_wins: ["Got the job offer"] }) }
        : { content: "{}" },
    );
    const job = await journalRun("l1", "Got the job offer today, feeling hopeful about the move.");
    expect(await job.getState()).toBe("completed");
    expect(job.returnvalue.steps.state).toBe("updated mood, recent_wins");
    const s = (await t.api("GET", "/v1/users/l1/state")).body;
    expect(s).toMatchObject({ mood: "hopeful", recent_wins: ["Got the job offer"] });
    const req = server.chatRequests().filter(isState).at(-1) as ChatRequest;
    expect(req.model).toBe("local-model");
    expect(lastUserText(req)).toContain("Got the job offer today");
  });

  it("invalid output is repaired once", async () => {
    let calls = 0;
    server.setChat(() =>
      calls++ === 0
        ? { content: JSON.stringify({ mood: 42 }) }
        : { content: JSON.stringify({ mood: "calm" }) },
    );
    const job = await journalRun("l2", "A quiet day, I'm calm.");
    expect(await job.getState()).toBe("completed");
    expect(calls).toBe(2);
    expect((await t.api("GET", "/v1/users/l2/state")).body.mood).toBe("calm");
  });

  it("still invalid after the repair: the job fails at once with the reason", async () => {
    server.setChat(() => ({ content: JSON.stringify({ recent_wins: "not a list" }) }));
    const job = await journalRun("l3", "Something happened.");
    expect(await job.getState()).toBe("failed");
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(
      /^state summarizer: model output invalid after one repair: recent_wins: /,
    );
  });

  it("the feedback summary is rebuilt by the model and validated by the element schema", async () => {
    for (const rating of [5, 1]) {
      const r = await t.api("POST", "/v1/users/l4/feedback", {
        interaction_id: `i${rating}`,
        rating,
        comments: `c${rating}`,
      });
      expect(r.status).toBe(201);
    }
    server.setChat((req) => {
      const body = JSON.parse(lastUserText(req));
      expect(body.total_ratings).toBe(2);
      return {
        content: JSON.stringify({ positives: ["warm tone"], negatives: ["too long"], suggestions: [] }),
      };
    });
    const id = "nightly.l4.2025-03-01";
    await c.queues.addNightly([
      { data: { kind: "nightly", user_id: "l4", local_date: "2025-03-01" }, jobId: id, delay: 0 },
    ]);
    const job = await until(async () => {
      const j = await c.queues.summarize.getJob(id);
      return (await j?.getState()) === "completed" ? j : undefined;
    }, "nightly");
    expect(job.returnvalue.steps.feedback).toBe("rebuilt from 2 record(s)");
    const fb = (await t.api("GET", "/v1/users/l4/feedback/summary")).body;
    expect(fb).toMatchObject({ positives: ["warm tone"], negatives: ["too long"], suggestions: [] });
  });

  it("server down: the summarizer retries with backoff and lands in failed jobs with its reason", async () => {
    await server.close();
    const job = await journalRun("l5", "The model server is gone.");
    expect(await job.getState()).toBe("failed");
    expect(job.attemptsMade).toBe(3);
    expect(job.failedReason).toMatch(/^state summarizer: .*(Connection error|ECONNREFUSED|connect)/i);
  });
});
