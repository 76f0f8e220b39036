import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { ChatOpenAI } from "@langchain/openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BasicInfoMemory,
  CalendarMemory,
  FeedbackMemory,
  GoalsMemory,
  HttpMemoryClient,
  InProcessMemorySource,
  MemoryApiError,
  MemoryRegistry,
  MemoryRetriever,
  type MemorySource,
  PreferencesMemory,
  SemanticRecallMemory,
  StateProfileMemory,
  TodosMemory,
  withMemory,
} from "../src/langchain/index.js";
import { semanticOf, waitFor } from "./semantic/helpers.js";
import { startMemorySystem } from "./support/memory.js";
import { type OpenAiServer, startOpenAiServer } from "./support/openai-server.js";
import { TEST_KEY, type TestSystem } from "./support/system.js";

let ts: TestSystem;
let chat: OpenAiServer;
let inProcess: MemorySource;
let http: MemorySource;
const U = "lc-user";

beforeAll(async () => {
  chat = await startOpenAiServer({ chat: () => ({ content: "How about ramen tonight?" }) });
  ts = await startMemorySystem({ env: { EMBED_DEBOUNCE_MS: "0" } });
  inProcess = new InProcessMemorySource(ts.system.deps);
  http = new HttpMemoryClient({ baseUrl: ts.url, token: TEST_KEY });
  const put = (path: string, body: object) => ts.api("PUT", `/v1/users/${U}/${path}`, body);
  await put("profile", { name: "Ana", timezone: "Europe/Lisbon" });
  await put("preferences", { food_preferences: ["I love sushi and ramen"], occupation: "nurse" });
  await put("state", { mood: "tired but hopeful" });
  await ts.api("POST", `/v1/users/${U}/goals`, { title: "Run a half marathon" });
  await ts.api("POST", `/v1/users/${U}/goals`, { title: "Learn Japanese cooking", status: "paused" });
  await ts.api("POST", `/v1/users/${U}/todos`, { text: "Buy running shoes" });
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
  await ts.api("POST", `/v1/users/${U}/events`, { summary: "Dinner with Rui", start: tomorrow });
  await ts.api("POST", `/v1/users/${U}/feedback`, {
    interaction_id: "i1",
    rating: 2,
    comments: "Shorter answers please",
  });
  await waitFor(async () => (await semanticOf(ts).index.listIds(U)).length >= 7, "vectors of the user");
});
afterAll(async () => {
  await ts?.stop();
  await chat?.close();
});

describe.each([
  ["in-process", () => inProcess],
  ["HTTP client", () => http],
])("LangChain memory (%s)", (_name, source) => {
  it("each memory class loads its own section only", async () => {
    const f = { source: source(), userId: U };
    const load = async (
      m: { loadMemoryVariables(v: object): Promise<Record<string, string>> },
      key: string,
    ) => (await m.loadMemoryVariables({ input: "hello" }))[key] as string;
    expect(await load(new BasicInfoMemory(f), "basic_info")).toMatch(/^## About the user\nName: Ana/);
    const prefs = await load(new PreferencesMemory(f), "preferences");
    expect(prefs).toContain("Food: I love sushi and ramen");
    expect(prefs).not.toContain("Ana");
    expect(await load(new GoalsMemory(f), "goals")).toContain("Run a half marathon");
    expect(await load(new TodosMemory(f), "todos")).toContain("Buy running shoes");
    expect(await load(new CalendarMemory(f), "events")).toContain("Dinner with Rui");
    expect(await load(new StateProfileMemory(f), "current_state")).toContain("Mood: tired but hopeful");
    expect(await load(new FeedbackMemory(f), "feedback")).toContain("How the user likes responses");
    const recall = await load(new SemanticRecallMemory(f), "relevant");
    expect(recall).toBe(""); // "hello" matches nothing
  });

  it("the registry composes them: one block, one context request, the relevant section for the input", async () => {
    const registry = MemoryRegistry.withDefaults();
    expect(registry.names).toEqual([
      "basic_info",
      "preferences",
      "goals",
      "todos",
      "calendar",
      "state_profile",
      "feedback",
    ]);
    const memory = registry.compose({ source: source(), userId: U });
    const vars = await memory.loadMemoryVariables({ input: "any tips for Japanese cooking?" });
    expect(memory.memoryKeys).toEqual(["memory"]);
    const direct = await ts.api(
      "GET",
      `/v1/users/${U}/context?query=${encodeURIComponent("any tips for Japanese cooking?")}`,
    );
    expect(vars.memory).toBe(direct.body.text);
    expect(vars.memory).toContain("## Relevant to this message\n- [goal, paused] Learn Japanese cooking");

    const some = registry.compose({ source: source(), userId: U }, ["basic_info", "goals"]);
    const part = (await some.loadMemoryVariables({ input: "Japanese cooking" })).memory as string;
    expect(part).toContain("Name: Ana");
    expect(part).toContain("Run a half marathon");
    expect(part).toContain("Learn Japanese cooking");
    expect(part).not.toContain("Food:");
  });

  it("saveContext records nothing", async () => {
    const before = await ts.system.deps.store.countUserItems(U);
    const jobs = await ts.system.ops.queues.byName.get("persist")?.getJobCounts();
    const memory = MemoryRegistry.withDefaults().compose({ source: source(), userId: U });
    await memory.saveContext({ input: "I now hate sushi" }, { output: "Noted!" });
    expect(await ts.system.deps.store.countUserItems(U)).toBe(before);
    expect(await ts.system.ops.queues.byName.get("persist")?.getJobCounts()).toEqual(jobs);
  });

  it("the retriever returns documents of current items", async () => {
    const retriever = new MemoryRetriever({ source: source(), userId: U, k: 2 });
    const docs = await retriever.invoke("sushi or ramen?");
    expect(docs[0]?.pageContent).toBe("[preference] food preferences: I love sushi and ramen");
    expect(docs[0]?.metadata).toMatchObject({
      element: "preferences",
      item_id: "food_preferences",
      score: expect.any(Number),
    });
    const only = new MemoryRetriever({ source: source(), userId: U, elements: ["feedback"] });
    const fb = await only.invoke("answers");
    expect(fb).toHaveLength(1);
    expect(fb[0]?.metadata.item).toMatchObject({ comments: "Shorter answers please", rating: 2 });
  });
});

describe("chain with ChatOpenAI", () => {
  it("the memory block reaches the model's prompt (LCEL: withMemory | prompt | model)", async () => {
    const memory = MemoryRegistry.withDefaults().compose({ source: http, userId: U });
    const prompt = ChatPromptTemplate.fromMessages([
      ["system", "You are a caring companion. What you know about the user:\n\n{memory}"],
      ["human", "{input}"],
    ]);
    const model = new ChatOpenAI({
      model: "gpt-4o-mini",
      apiKey: "test-key",
      configuration: { baseURL: chat.url },
    });
    const chain = withMemory(memory).pipe(prompt).pipe(model).pipe(new StringOutputParser());

    const answer = await chain.invoke({ input: "What should I cook, something Japanese?" });
    expect(answer).toBe("How about ramen tonight?");
    const req = chat.chatRequests().at(-1);
    const system = String(req?.messages[0]?.content);
    expect(req?.messages[0]?.role).toBe("system");
    expect(system).toContain("Name: Ana");
    expect(system).toContain("Food: I love sushi and ramen");
    expect(system).toContain("- [P3] Run a half marathon");
    expect(system).toContain("## Relevant to this message\n- [goal, paused] Learn Japanese cooking");
    expect(req?.messages[1]).toMatchObject({
      role: "user",
      content: "What should I cook, something Japanese?",
    });
  });

  it("the HTTP client reports API errors with status and code", async () => {
    const bad = new HttpMemoryClient({ baseUrl: ts.url, token: "wrong-key" });
    const err = await bad.context(U).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MemoryApiError);
    expect(err).toMatchObject({ status: 401, code: "unauthorized" });
    const missing = await http.context("nobody-here").catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, code: "not_found" });
  });
});
