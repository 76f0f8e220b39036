import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenAiServer, startOpenAiServer } from "./support/openai-server.js";
import { startTestSystem, type TestSystem } from "./support/system.js";

const clock = { now: new Date("2025-01-10T09:00:00Z") };
const EXAMPLE = "I've been really into bouldering lately, and remind me to renew my passport before March";

describe("POST /infer with the offline rules", () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startTestSystem({
      now: () => clock.now,
      env: { CADENCE_SCHEDULES: "off", SUMMARIZER_ENGINE: "rules" },
    });
  });
  afterAll(async () => t?.stop());

  it("extracts and writes the issue's example with provenance", async () => {
    const r = await t.api("POST", "/v1/users/i1/infer", { text: EXAMPLE });
    expect(r.status).toBe(200);
    expect(r.body.engine).toBe("rules");
    expect(r.body.extracted.preferences).toEqual([
      { field: "sport_preferences", value: "bouldering", confidence: 0.75 },
    ]);
    expect(r.body.writes.map((w: { element: string; status: string }) => [w.element, w.status])).toEqual([
      ["preferences", "applied"],
      ["todo", "applied"],
    ]);
    const prefs = (await t.api("GET", "/v1/users/i1/preferences")).body;
    expect(prefs.sport_preferences).toEqual(["bouldering"]);
    expect(prefs.provenance.sport_preferences).toEqual({
      inferred: true,
      source_text: EXAMPLE,
      confidence: 0.75,
      at: "2025-01-10T09:00:00.000Z",
      engine: "rules",
      values: ["bouldering"],
    });
    const todoId = r.body.writes[1].id;
    const todo = (await t.api("GET", `/v1/users/i1/todos/${todoId}`)).body;
    expect(todo).toMatchObject({
      text: "Renew my passport",
      due_date: "2025-02-28",
      provenance: { inferred: true, source_text: EXAMPLE, confidence: 0.9, engine: "rules" },
    });
  });

  it("the same utterance again creates nothing new", async () => {
    const r = await t.api("POST", "/v1/users/i1/infer", { text: EXAMPLE });
    expect(r.status).toBe(200);
    const todos = (await t.api("GET", "/v1/users/i1/todos")).body.items;
    expect(todos).toHaveLength(1);
    expect((await t.api("GET", "/v1/users/i1/preferences")).body.sport_preferences).toEqual(["bouldering"]);
  });

  it("an inferred value never overwrites an explicit one; list fields gain items", async () => {
    expect(
      (
        await t.api("PUT", "/v1/users/i2/preferences", {
          occupation: "teacher",
          hobby_preferences: ["chess"],
        })
      ).status,
    ).toBe(200);
    const r = await t.api("POST", "/v1/users/i2/infer", { text: "I work as a nurse. I love painting." });
    expect(r.status).toBe(200);
    const p = (await t.api("GET", "/v1/users/i2/preferences")).body;
    expect(p.occupation).toBe("teacher");
    expect(p.hobby_preferences).toEqual(["chess", "painting"]);
    expect(Object.keys(p.provenance)).toEqual(["hobby_preferences"]);
    expect(p.provenance.hobby_preferences.values).toEqual(["painting"]);
  });

  it("an explicit edit after an inference makes the field explicit", async () => {
    await t.api("POST", "/v1/users/i3/infer", { text: "I work as a nurse." });
    let p = (await t.api("GET", "/v1/users/i3/preferences")).body;
    expect(p.occupation).toBe("nurse");
    expect(p.provenance.occupation.inferred).toBe(true);
    // An inferred value may be replaced by a newer inference...
    await t.api("POST", "/v1/users/i3/infer", { text: "I work as a midwife." });
    expect((await t.api("GET", "/v1/users/i3/preferences")).body.occupation).toBe("midwife");
    // ...but once the user sets it, inference leaves it alone.
    expect((await t.api("PATCH", "/v1/users/i3/preferences", { occupation: "doctor" })).status).toBe(200);
    p = (await t.api("GET", "/v1/users/i3/preferences")).body;
    expect(p.provenance).toBeUndefined();
    const r = await t.api("POST", "/v1/users/i3/infer", { text: "I work as a pilot." });
    expect(r.body.writes[0].status).toBe("unchanged");
    expect((await t.api("GET", "/v1/users/i3/preferences")).body.occupation).toBe("doctor");
  });

  it("a to-do the user already has is not duplicated", async () => {
    expect((await t.api("POST", "/v1/users/i4/todos", { text: "Call mom" })).status).toBe(201);
    const r = await t.api("POST", "/v1/users/i4/infer", { text: "Remind me to call mom tomorrow." });
    expect(r.body.writes).toEqual([
      {
        element: "todo",
        id: expect.any(String),
        status: "skipped",
        reason: "an open to-do with this text exists",
      },
    ]);
    expect((await t.api("GET", "/v1/users/i4/todos")).body.items).toHaveLength(1);
  });

  it("validates the body", async () => {
    expect((await t.api("POST", "/v1/users/i1/infer", { text: "" })).status).toBe(400);
    expect((await t.api("POST", "/v1/users/i1/infer", { text: "x", extra: 1 })).status).toBe(400);
    expect((await t.api("POST", "/v1/users/i1/infer", { text: "x" }, { token: null })).status).toBe(401);
  });
});

describe("POST /infer on the LLM path", () => {
  let server: OpenAiServer;
  let t: TestSystem;
  beforeAll(async () => {
    server = await startOpenAiServer();
    t = await startTestSystem({
      now: () => clock.now,
      env: {
        CADENCE_SCHEDULES: "off",
        OPENAI_API_KEY: "sk-local",
        OPENAI_BASE_URL: server.url,
        LLM_MAX_RETRIES: "0",
        LLM_TIMEOUT_MS: "5000",
      },
    });
  });
  afterAll(async () => {
    await t?.stop();
    await server?.close();
  });

  it("auto engine with a key uses the model; its output is validated and written", async () => {
    server.setChat(() => ({
      content: JSON.stringify({
        preferences: [{ field: "sport_preferences", value: "bouldering", confidence: 0.92 }],
        todos: [{ text: "Renew passport", due_date: "2025-02-28", confidence: 0.88 }],
        goals: [],
      }),
    }));
    const r = await t.api("POST", "/v1/users/m1/infer", { text: EXAMPLE });
    expect(r.status).toBe(200);
    expect(r.body.engine).toBe("llm");
    const prompt = server.chatRequests().at(-1);
    expect(String(prompt?.messages[0]?.content)).toContain("Today is 2025-01-10");
    const prefs = (await t.api("GET", "/v1/users/m1/preferences")).body;
    expect(prefs.provenance.sport_preferences).toMatchObject({
      confidence: 0.92,
      engine: "llm",
      inferred: true,
    });
  });

  it("output still invalid after the repair is a 502 naming the problem", async () => {
    server.setChat(() => ({ content: JSON.stringify({ preferences: "bouldering" }) }));
    const r = await t.api("POST", "/v1/users/m2/infer", { text: EXAMPLE });
    expect(r.status).toBe(502);
    expect(r.body.error.code).toBe("inference_failed");
    expect(r.body.error.message).toMatch(/model output invalid after one repair: preferences: /);
  });

  it("server down is a 503", async () => {
    await server.close();
    const r = await t.api("POST", "/v1/users/m3/infer", { text: EXAMPLE });
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe("model_unavailable");
  });
});
