import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { embedQueueIdle, waitFor } from "./semantic/helpers.js";
import { startMemorySystem } from "./support/memory.js";
import { type OpenAiServer, startOpenAiServer } from "./support/openai-server.js";
import { TEST_KEY, type TestSystem } from "./support/system.js";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..");

/** The README's "Semantic memory" section, and its fenced blocks of one language. */
function section(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("\n## Semantic memory\n");
  const next = readme.slice(start + 1).search(/\n## (?!Relevant)[A-Z]/);
  return next < 0 ? readme.slice(start) : readme.slice(start, start + 1 + next);
}
const blocks = (lang: string) =>
  [...section().matchAll(new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, "gm"))].map(
    (m) => m[1] as string,
  );

let ts: TestSystem;
let chat: OpenAiServer;

beforeAll(async () => {
  chat = await startOpenAiServer({ chat: () => ({ content: "Try a miso ramen." }) });
  ts = await startMemorySystem({ env: { EMBED_DEBOUNCE_MS: "0" } });
});
afterAll(async () => {
  await ts?.stop();
  await chat?.close();
});

describe("README 'Semantic memory' examples, as written", () => {
  const outputs: string[] = [];

  it("the curl examples answer 2xx and show what the README says", async () => {
    const curls = blocks("bash").filter((b) => b.includes("curl "));
    expect(curls.length).toBeGreaterThanOrEqual(3);
    for (const b of curls) {
      const { stdout } = await run(
        "bash",
        ["-euo", "pipefail", "-c", b.replaceAll("http://localhost:3000", ts.url)],
        {
          env: { PATH: process.env.PATH ?? "", MEMORY_API_KEY: TEST_KEY },
        },
      );
      outputs.push(stdout);
      // The embed worker runs right after each write; the next block reads what it produced.
      await waitFor(() => embedQueueIdle(ts), "embed queue idle");
    }
    const search = JSON.parse(outputs.find((o) => o.includes('"hits"')) as string);
    expect(search.hits[0]).toMatchObject({
      element: "preferences",
      item_id: "food_preferences",
      item: { field: "food_preferences", value: ["I love sushi and ramen"] },
    });
    expect(search.hits).toHaveLength(1); // "chess" and the goal share no word with the question
    const ctx = JSON.parse(outputs.find((o) => o.includes('"sections"')) as string);
    expect(ctx.text).toContain("## Relevant to this message\n- [goal, paused] Learn Japanese cooking");
  });

  it("the LangChain example runs against the API and an OpenAI-compatible chat server", async () => {
    const [code] = blocks("ts");
    expect(code).toContain("withMemory(memory).pipe(prompt).pipe(model)");
    const file = join(ROOT, `.readme-example-${process.pid}.mts`);
    writeFileSync(file, (code as string).replaceAll("http://localhost:3000", ts.url));
    try {
      const { stdout } = await run(process.execPath, ["--import", "tsx", file], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? "",
          MEMORY_API_KEY: TEST_KEY,
          OPENAI_BASE_URL: chat.url,
          OPENAI_API_KEY: "k",
        },
        timeout: 60_000,
      });
      expect(stdout).toContain("Try a miso ramen.");
      expect(stdout).toContain("[goal, paused] Learn Japanese cooking");
    } finally {
      rmSync(file, { force: true });
    }
    const system = String(chat.chatRequests().at(-1)?.messages[0]?.content);
    expect(system).toContain("Food: I love sushi and ramen");
    expect(system).toContain("## Relevant to this message\n- [goal, paused] Learn Japanese cooking");
  }, 90_000);
});
