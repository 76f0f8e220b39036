import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMemorySystem } from "../support/memory.js";
import type { TestSystem } from "../support/system.js";

/**
 * Property-based bad input over every write route and query parameter: whatever arrives, the
 * answer is never a 5xx, and a refused request leaves every tier exactly as it was.
 */
const U = "prop-user";
const RUNS = Number(process.env.PROPERTY_RUNS ?? 60);
const ran = { bodies: 0, raw: 0, ids: 0, queries: 0, accepted: 0 };

let t: TestSystem;
let ids: { goal: string; todo: string; event: string };

async function tiers() {
  const r = t.system.redis;
  let keys = 0;
  let cursor = "0";
  do {
    const [next, batch] = await r.scan(cursor, "MATCH", `${t.config.KEY_PREFIX}:*`, "COUNT", 1000);
    cursor = next;
    keys += batch.filter((k) => !k.endsWith(":rl") && !k.includes(":rate:")).length;
  } while (cursor !== "0");
  const db = (t.system.deps.store as unknown as { db: { send: (c: unknown) => Promise<{ Count?: number }> } })
    .db;
  const items =
    (await db.send(new ScanCommand({ TableName: t.config.DYNAMODB_TABLE, Select: "COUNT" }))).Count ?? 0;
  const counts = await t.system.deps.persist.queue.getJobCounts();
  const jobs = Object.values(counts).reduce((a, b) => a + b, 0);
  const seq = await r.get(`${t.system.deps.hot.base(U)}seq`);
  return { keys, items, jobs, seq };
}

async function send(method: string, path: string, raw: string) {
  return t.api(method, path, undefined, { raw });
}

const writeRoutes = () => [
  ["PUT", `/v1/users/${U}/profile`],
  ["PATCH", `/v1/users/${U}/profile`],
  ["PUT", `/v1/users/${U}/preferences`],
  ["PATCH", `/v1/users/${U}/preferences`],
  ["PUT", `/v1/users/${U}/state`],
  ["PATCH", `/v1/users/${U}/state`],
  ["POST", `/v1/users/${U}/goals`],
  ["PATCH", `/v1/users/${U}/goals/${ids.goal}`],
  ["POST", `/v1/users/${U}/goals/${ids.goal}/progress`],
  ["POST", `/v1/users/${U}/todos`],
  ["PATCH", `/v1/users/${U}/todos/${ids.todo}`],
  ["POST", `/v1/users/${U}/events`],
  ["PATCH", `/v1/users/${U}/events/${ids.event}`],
  ["POST", `/v1/users/${U}/feedback`],
  ["POST", `/v1/users/${U}/journal`],
];

/** Values that break schemas: wrong types, boundaries, oversized, unicode, prototype keys, deep nesting. */
const nasty = fc.oneof(
  fc.constantFrom(
    null,
    true,
    -1,
    0,
    101,
    1e308,
    "",
    " ",
    "x".repeat(70_000),
    "2026-02-30",
    "9999-99-99",
    "Mars/Olympus",
    "+0",
    "not-an-email",
    "\u0000",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "../../etc/passwd",
    "{user}",
    "*",
    "a:b",
  ),
  fc.string({ maxLength: 300 }),
  fc.array(fc.string(), { maxLength: 200 }),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 4 }),
);
const fieldNames = fc.constantFrom(
  "name",
  "date_of_birth",
  "email",
  "phone",
  "timezone",
  "locale",
  "title",
  "text",
  "summary",
  "start",
  "end",
  "due_date",
  "status",
  "priority",
  "rating",
  "interaction_id",
  "tags",
  "attributes",
  "mood",
  "note",
  "percent",
  "__proto__",
  "constructor",
  "prototype",
  "unknown_field",
);
const badBody = fc.oneof(fc.dictionary(fieldNames, nasty, { minKeys: 1, maxKeys: 6 }), nasty);

function deep(n: number): string {
  return `${'{"a":'.repeat(n)}1${"}".repeat(n)}`;
}

describe("bad input, property-based", () => {
  beforeAll(async () => {
    t = await startMemorySystem();
    const g = await t.api("POST", `/v1/users/${U}/goals`, { title: "Seed goal" });
    const d = await t.api("POST", `/v1/users/${U}/todos`, { text: "Seed todo" });
    const e = await t.api("POST", `/v1/users/${U}/events`, {
      summary: "Seed",
      start: "2026-12-01T10:00:00Z",
    });
    ids = { goal: g.body.goal_id, todo: d.body.todo_id, event: e.body.event_id };
  });
  afterAll(async () => {
    console.log(`property cases run: ${JSON.stringify(ran)}`);
    await t?.stop();
  });

  it("JSON bodies of the wrong shape on every write route: never 5xx; refused ones write nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...writeRoutes()), badBody, async ([method, path], body) => {
        ran.bodies++;
        const before = await tiers();
        const r = await send(method as string, `${path}`, JSON.stringify(body));
        expect(r.status, `${method} ${path} ${JSON.stringify(body).slice(0, 200)}`).toBeLessThan(500);
        if (r.status >= 400) {
          expect(r.body?.error?.code).toBeTypeOf("string");
          expect(JSON.stringify(r.body)).not.toMatch(/\bat \S+\.(ts|js):\d+/);
          expect(await tiers()).toEqual(before);
        } else ran.accepted++;
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it("raw bodies: malformed JSON, deep nesting, prototype keys, wrong content", async () => {
    const raws = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.constantFrom(
        "{",
        "[1,2",
        '{"name": "a",}',
        "null",
        "[]",
        '"just a string"',
        deep(5000),
        '{"__proto__": {"polluted": true}, "name": "x"}',
        '{"constructor": {"prototype": {"polluted": true}}}',
        '{"name": "\\ud800"}',
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...writeRoutes()), raws, async ([method, path], raw) => {
        ran.raw++;
        const before = await tiers();
        const r = await send(method as string, path as string, raw);
        expect(r.status, `${method} ${path} ${raw.slice(0, 100)}`).toBeLessThan(500);
        if (r.status >= 400) expect(await tiers()).toEqual(before);
        else ran.accepted++;
      }),
      { numRuns: RUNS * 2 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("ids with ../ : { } * spaces and unicode in user and item paths: 4xx, nothing written, no key injection", async () => {
    const weird = fc.oneof(
      fc.constantFrom(
        "../x",
        "a:b",
        "{u}",
        "}{",
        "*",
        "a b",
        "x*",
        "..",
        "%2e%2e",
        "ü",
        "a/b",
        "a".repeat(65),
      ),
      fc.string({ minLength: 1, maxLength: 80 }).filter((s) => !/^[A-Za-z0-9_-]{1,64}$/.test(s)),
    );
    await fc.assert(
      fc.asyncProperty(weird, fc.constantFrom("user", "goal", "todo", "event"), async (id, where) => {
        ran.ids++;
        const seg = encodeURIComponent(id);
        const path = where === "user" ? `/v1/users/${seg}/profile` : `/v1/users/${U}/${where}s/${seg}`;
        const method = where === "user" ? "PUT" : "PATCH";
        const before = await tiers();
        const r = await send(
          method,
          path,
          JSON.stringify(where === "user" ? { name: "A" } : { priority: 2 }),
        );
        expect(r.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        expect(await tiers()).toEqual(before);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it("query parameters of every list and context route: never 5xx", async () => {
    const params = fc.constantFrom(
      `/v1/users/${U}/goals?status=`,
      `/v1/users/${U}/todos?status=`,
      `/v1/users/${U}/todos?due_before=`,
      `/v1/users/${U}/events?from=`,
      `/v1/users/${U}/events?to=`,
      `/v1/users/${U}/feedback?limit=`,
      `/v1/users/${U}/feedback?cursor=`,
      `/v1/users/${U}/context?max_chars=`,
      `/v1/users/${U}/context?query=`,
      `/v1/users/${U}/search?q=`,
      `/v1/users/${U}/search?k=`,
      `/v1/users/${U}/journal?limit=`,
      `/v1/users/${U}/goals?wait=`,
    );
    await fc.assert(
      fc.asyncProperty(
        params,
        fc.oneof(fc.string({ maxLength: 100 }), fc.constantFrom("-1", "1e9", "NaN", "", "*", "{x}")),
        async (p, v) => {
          ran.queries++;
          const r = await t.api("GET", `${p}${encodeURIComponent(v)}`);
          expect(r.status, `${p}${v}`).toBeLessThan(500);
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });
});
