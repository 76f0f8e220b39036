import { UnrecoverableError } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatStructuredModel, chooseEngine } from "../src/cadence/llm.js";
import { FeedbackSummary } from "../src/elements/feedback.js";
import { type OpenAiServer, startOpenAiServer } from "./support/openai-server.js";

const valid = {
  positives: ["concise answers"],
  negatives: ["too much jargon"],
  suggestions: ["add examples"],
};

describe("LLM path (ChatOpenAI against a local chat-completions server)", () => {
  let server: OpenAiServer;
  beforeAll(async () => {
    server = await startOpenAiServer();
  });
  afterAll(async () => server?.close());

  const model = () =>
    new ChatStructuredModel({
      baseURL: server.url,
      apiKey: "sk-test",
      model: "test-model",
      timeoutMs: 5000,
      maxRetries: 0,
    });

  it("returns schema-valid structured output; JSON mode with the schema in the prompt", async () => {
    server.setChat(() => ({ content: JSON.stringify(valid) }));
    const before = server.chatRequests().length;
    const out = await model().generate(FeedbackSummary, "feedback_summary", "sys", "summarize");
    expect(out).toEqual(valid);
    const reqs = server.chatRequests().slice(before);
    expect(reqs).toHaveLength(1);
    expect(reqs[0]?.model).toBe("test-model");
    expect(reqs[0]?.response_format?.type).toBe("json_object");
    expect(String(reqs[0]?.messages[0]?.content)).toContain('"suggestions"');
    const auth = server.requests.at(-1)?.headers.authorization;
    expect(auth).toBe("Bearer sk-test");
  });

  it("repairs invalid output once, telling the model what was wrong", async () => {
    let calls = 0;
    server.setChat(() =>
      calls++ === 0
        ? { content: JSON.stringify({ positives: "not a list" }) }
        : { content: JSON.stringify(valid) },
    );
    const before = server.chatRequests().length;
    const out = await model().generate(FeedbackSummary, "feedback_summary", "sys", "summarize");
    expect(out).toEqual(valid);
    const reqs = server.chatRequests().slice(before);
    expect(reqs).toHaveLength(2);
    const repair = reqs[1]?.messages.at(-1)?.content as string;
    expect(repair).toMatch(/does not match the required schema/);
    expect(repair).toMatch(/positives/);
  });

  it("fails without retry when the repair is still invalid, naming the reason", async () => {
    server.setChat(() => ({ content: "not json at all" }));
    const before = server.chatRequests().length;
    const err = await model()
      .generate(FeedbackSummary, "feedback_summary", "sys", "summarize")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect(String((err as Error).message)).toMatch(
      /model output invalid after one repair: the reply is not a JSON object/,
    );
    expect(server.chatRequests().length - before).toBe(2);
  });

  it("throws a retryable error when the server is down", async () => {
    const down = new ChatStructuredModel({
      baseURL: "http://127.0.0.1:9/v1",
      model: "m",
      timeoutMs: 2000,
      maxRetries: 0,
    });
    const err = await down.generate(FeedbackSummary, "x", "s", "u").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(UnrecoverableError);
    expect(String((err as Error).message)).toMatch(/connect|connection|ECONNREFUSED/i);
  });

  it("chooses the engine: auto means the model only with a key", () => {
    const cfg = { model: "m", timeoutMs: 1000, maxRetries: 0 };
    expect(chooseEngine("auto", cfg)).toBe("rules");
    expect(chooseEngine("auto", { ...cfg, apiKey: "k" })).toBe("llm");
    expect(chooseEngine("llm", cfg)).toBe("llm");
    expect(chooseEngine("rules", { ...cfg, apiKey: "k" })).toBe("rules");
  });
});
