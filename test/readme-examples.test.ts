import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSystem, type TestSystem } from "./support/system.js";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..");
const README_BASE = "http://localhost:3000";
// The key the README's start command sets; the test system accepts exactly it.
const README_KEY = "dev-key";

/** The ```bash blocks between `<!-- examples:start -->` and `<!-- examples:end -->`, in README order. */
function exampleScript(readme: string): string {
  const regions = [...readme.matchAll(/<!-- examples:start -->([\s\S]*?)<!-- examples:end -->/g)];
  const blocks = regions.flatMap((r) => [...(r[1] ?? "").matchAll(/^```bash\n([\s\S]*?)^```$/gm)]);
  return blocks.map((b) => b[1]).join("\n");
}

// Every route of the foundation; the examples must call each one.
const ROUTES: [string, RegExp][] = [
  ["GET", /^\/healthz$/],
  ...["profile", "preferences", "state"].flatMap((el): [string, RegExp][] =>
    ["PUT", "PATCH", "GET"].map((m) => [m, new RegExp(`^/v1/users/[^/]+/${el}$`)]),
  ),
  ...["goals", "todos", "events"].flatMap((c): [string, RegExp][] => [
    ["POST", new RegExp(`^/v1/users/[^/]+/${c}$`)],
    ["GET", new RegExp(`^/v1/users/[^/]+/${c}$`)],
    ["GET", new RegExp(`^/v1/users/[^/]+/${c}/[^/]+$`)],
    ["PATCH", new RegExp(`^/v1/users/[^/]+/${c}/[^/]+$`)],
    ["DELETE", new RegExp(`^/v1/users/[^/]+/${c}/[^/]+$`)],
  ]),
  ["POST", /^\/v1\/users\/[^/]+\/goals\/[^/]+\/progress$/],
  ["POST", /^\/v1\/users\/[^/]+\/feedback$/],
  ["GET", /^\/v1\/users\/[^/]+\/feedback$/],
  ["GET", /^\/v1\/users\/[^/]+\/feedback\/summary$/],
  ["GET", /^\/v1\/users\/[^/]+\/context$/],
  ["GET", /^\/v1\/jobs\/[^/]+$/],
];

interface Call {
  status: number;
  method: string;
  path: string;
  query: URLSearchParams;
}

describe("README curl examples", () => {
  let ts: TestSystem;
  let script: string;
  let stdout = "";
  let calls: Call[] = [];
  let dir: string;

  beforeAll(async () => {
    script = exampleScript(readFileSync(join(ROOT, "README.md"), "utf8"));
    ts = await startTestSystem({ env: { MEMORY_API_KEYS: README_KEY } });
    dir = mkdtempSync(join(tmpdir(), "cm-readme-"));
    // Only the base URL changes. The wrapper reports each curl's status and URL on stderr,
    // next to the README's own `-fsS`, which makes any non-2xx answer stop the script.
    const wrapper = `curl() { command curl -w '%{stderr}@@curl %{http_code} %{method} %{url_effective}\\n' "$@"; }\n`;
    const file = join(dir, "examples.sh");
    writeFileSync(file, wrapper + script.replaceAll(README_BASE, ts.url));
    try {
      const out = await run("bash", ["-euo", "pipefail", file], {
        cwd: ROOT,
        timeout: 240_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      stdout = out.stdout;
      calls = parseCalls(out.stderr);
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`README examples failed: ${e.message}\nstdout:\n${e.stdout}\nstderr:\n${e.stderr}`);
    }
  }, 300_000);

  afterAll(async () => {
    await ts?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("are plain curl -fsS calls against BASE with the start command's key", () => {
    expect(script).toContain(`BASE=${README_BASE}`);
    expect(script).toMatch(new RegExp(`^KEY=${README_KEY}\\b`, "m"));
    const curls = script.match(/\bcurl\b/g) ?? [];
    expect(curls.length).toBeGreaterThanOrEqual(ROUTES.length);
    expect((script.match(/\bcurl -fsS /g) ?? []).length).toBe(curls.length);
  });

  it("ran every curl, and every one answered 2xx", () => {
    expect(calls.length).toBe((script.match(/\bcurl -fsS /g) ?? []).length);
    const bad = calls.filter((c) => c.status < 200 || c.status > 299);
    expect(bad).toEqual([]);
  });

  it("call every route of the API", () => {
    const missing = ROUTES.filter(([m, re]) => !calls.some((c) => c.method === m && re.test(c.path)));
    expect(missing.map(([m, re]) => `${m} ${re.source}`)).toEqual([]);
    expect(calls.some((c) => c.query.get("wait") === "false")).toBe(true);
    expect(calls.some((c) => c.path.endsWith("/context") && c.query.has("max_chars"))).toBe(true);
  });

  it("leave the memory the README describes", async () => {
    expect(stdout).toContain("the retried request was applied once");
    expect(stdout).toMatch(/## Pending to-dos\n- Renew passport \(due 2021-03-01\) overdue/);
    expect(stdout).toContain("- [P2] Run a half marathon; target 2030-04-06; latest: Ran 15 km (60%)");

    const goals = await ts.api("GET", "/v1/users/alice/goals", undefined, { token: README_KEY });
    expect(goals.body.items.map((g: any) => g.title)).toEqual(["Run a half marathon"]);
    const todos = await ts.api("GET", "/v1/users/alice/todos", undefined, { token: README_KEY });
    const texts = todos.body.items.map((t: any) => t.text).sort();
    expect(texts).toEqual(["Book physio", "Buy trail shoes", "Renew passport"]);
    const state = await ts.api("GET", "/v1/users/alice/state", undefined, { token: README_KEY });
    expect(state.body.mood).toBe("excited"); // the ?wait=false write was applied
    const events = await ts.api("GET", "/v1/users/alice/events", undefined, { token: README_KEY });
    expect(events.body.items.map((e: any) => [e.summary, e.location])).toEqual([
      ["Dinner with Sam", "Chez Janou"],
    ]);
    const summary = await ts.api("GET", "/v1/users/alice/feedback/summary", undefined, { token: README_KEY });
    expect(summary.body.positives).toEqual(["Short and warm, perfect"]);
    expect(summary.body.suggestions).toEqual(["Ask before giving advice"]);
  });
});

function parseCalls(stderr: string): Call[] {
  return stderr
    .split("\n")
    .filter((l) => l.startsWith("@@curl "))
    .map((l) => {
      const [, status, method, url] = l.split(" ");
      const u = new URL(String(url));
      return { status: Number(status), method: String(method), path: u.pathname, query: u.searchParams };
    });
}
