import { request } from "node:http";
import { join } from "node:path";
import { type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIMITS } from "../../src/elements/common.js";
import { startMemorySystem } from "../support/memory.js";
import { until } from "../support/procs.js";
import { readDynamo, scanKeys } from "../support/scan.js";
import { TEST_KEY, type TestSystem } from "../support/system.js";
import {
  describeChange,
  fileHashes,
  protoKeyPaths,
  type RedisValues,
  readRedisValues,
  stable,
} from "./tier-values.js";

/**
 * Bad input over every write route, every path id and every query parameter: property-based
 * (fast-check) cases plus a fixed cross-product (every write route x every constant bad body,
 * every write route x bad Idempotency-Key values, every DELETE x bad ?wait=, bad ?purge=).
 * Whatever arrives, the answer is never a 5xx and carries a stable error code; a refused request
 * leaves every tier as it was, compared by VALUE: every Redis key under the memory and queue
 * prefixes (type and full content), every DynamoDB item (whole), the vector files. An accepted
 * request stores no `__proto__` / `constructor` / `prototype` key, and the process's prototypes
 * stay clean. PROPERTY_RUNS scales the random cases (default 150).
 */
const U = "prop-user";
/** DELETE /v1/users/:u (erasure) is probed on this user, so a wrongly accepted one cannot wipe U. */
const VICTIM = "prop-erase";
const RUNS = Number(process.env.PROPERTY_RUNS ?? 150);
const ran = {
  bodies: 0,
  raw: 0,
  ids: 0,
  queries: 0,
  write_queries: 0,
  headers: 0,
  matrix_bodies: 0,
  matrix_wrong_types: 0,
  matrix_idempotency: 0,
  matrix_delete_wait: 0,
  matrix_purge: 0,
  matrix_proto_attributes: 0,
  /** Valid by chance (random cases) and accepted: allowed, checked for stored prototype keys. */
  accepted: 0,
  /** Accepted although the case must be refused: each one is a failure. */
  wrongly_accepted: 0,
};

// Before any request: what a polluted prototype would change.
const PROTOTYPES = { Object: Object.prototype, Array: Array.prototype, Function: Function.prototype };
const protoNames = () =>
  Object.fromEntries(Object.entries(PROTOTYPES).map(([k, p]) => [k, Reflect.ownKeys(p).map(String).sort()]));
const PROTO_BASELINE = protoNames();

let t: TestSystem;
/** The snapshots' own Redis connection: never queued behind the app's commands. */
let snap: Redis;
let ids: { goal: string; todo: string; event: string };

const db = () => (t.system.deps.store as unknown as { db: DynamoDBDocumentClient }).db;

/** The last Redis read: its full values are reused for keys whose digest has not changed. */
let lastRedis: RedisValues | undefined;

/**
 * Everything a write could change, in every tier, by value: each Redis key's type and a digest
 * of its whole value (computed by Redis), every DynamoDB item whole, the vector files.
 */
async function tiers() {
  const redis = snap;
  const readAllRedis = async () => {
    const keys = [
      ...(await scanKeys(redis, t.config.KEY_PREFIX)),
      // BullMQ's stalled-jobs checker sets this lock (a key with a TTL) on its own timer, request or not.
      ...(await scanKeys(redis, t.config.QUEUE_PREFIX)).filter((k) => !k.endsWith(":stalled-check")),
    ];
    lastRedis = await readRedisValues(redis, keys, lastRedis);
    return lastRedis;
  };
  // The queue keys (wait/active/completed/failed lists and sets, job hashes, event streams) hold every job.
  const [r, items, vectors, vector_files] = await Promise.all([
    readAllRedis(),
    readDynamo(db(), t.config.DYNAMODB_TABLE),
    t.system.deps.semantic?.index.listIds(U) ?? [],
    fileHashes(join(t.dataDir, "vectors")),
  ]);
  return {
    raw: r.values,
    redis: r.digests,
    items,
    dynamodb: new Map([...items].map(([k, item]) => [k, stable(item)])),
    vectors: [...vectors].sort(),
    vector_files,
  };
}

type Tiers = Awaited<ReturnType<typeof tiers>>;

/** What changed between two snapshots: added, removed and changed keys and items, with the fields. */
function diffTiers(a: Tiers, b: Tiers): string[] {
  const out: string[] = [];
  const compare = (
    name: string,
    x: Map<string, string>,
    y: Map<string, string>,
    value: (s: Tiers, k: string) => unknown,
  ) => {
    for (const [k, v] of y) {
      if (!x.has(k)) out.push(`+${name} ${k}`);
      else if (x.get(k) !== v) out.push(`~${name} ${k}: ${describeChange(value(a, k), value(b, k))}`);
    }
    for (const k of x.keys()) if (!y.has(k)) out.push(`-${name} ${k}`);
  };
  compare("redis", a.redis, b.redis, (s, k) => s.raw.get(k)?.value);
  compare("dynamodb", a.dynamodb, b.dynamodb, (s, k) => s.items.get(k));
  if (stable(a.vectors) !== stable(b.vectors)) out.push(`vectors ${a.vectors.length} -> ${b.vectors.length}`);
  if (stable(a.vector_files) !== stable(b.vector_files))
    out.push(`vector files ${describeChange(a.vector_files, b.vector_files)}`);
  return out;
}

/** Any `__proto__` / `constructor` / `prototype` key stored anywhere (Redis values, DynamoDB items). */
function storedProtoKeys(s: Tiers): string[] {
  const out: string[] = [];
  for (const [k, e] of s.raw) out.push(...protoKeyPaths(e.value).map((p) => `redis ${k} ${p}`));
  for (const [k, item] of s.items) out.push(...protoKeyPaths(item).map((p) => `dynamodb ${k} ${p}`));
  return out;
}

/** After an accepted write: let its follow-up jobs (embedding) finish before the next case. */
async function settle() {
  await until(
    "queues idle",
    async () => {
      for (const q of t.system.ops.queues.all) {
        const c = await q.getJobCounts("wait", "active", "delayed", "prioritized");
        if (Object.values(c).some((x) => x > 0)) return false;
      }
      return true;
    },
    30_000,
  );
}

/**
 * An accepted write still queued (202): wait until its job completed, or failed an attempt, and
 * say why it did not complete. A job that did not is removed so its retries do not run into the
 * next case.
 */
async function jobOutcome(id: string): Promise<string | undefined> {
  const queue = t.system.deps.persist.queue;
  const state = await until(
    `job ${id} completed or failed once`,
    async () => {
      const s = await (await queue.getJob(id))?.getState();
      return s === "completed" || s === "failed" || s === "delayed" ? s : undefined;
    },
    30_000,
  );
  if (state === "completed") return undefined;
  const job = await queue.getJob(id);
  const reason = `job ${state} after ${job?.attemptsMade} attempt(s): ${job?.failedReason}`;
  await job?.remove();
  return reason;
}

/** node:http, not fetch: fetch resolves `..` and `%2e%2e` segments before sending. */
function send(method: string, path: string, raw: string | undefined, headers: Record<string, string>) {
  const { port } = new URL(t.url);
  return new Promise<{ status: number; body: any }>((res, rej) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        headers: {
          authorization: `Bearer ${TEST_KEY}`,
          ...(raw === undefined ? {} : { "content-type": "application/json" }),
          ...headers,
        },
      },
      (r) => {
        const chunks: Buffer[] = [];
        r.on("data", (c: Buffer) => chunks.push(c));
        r.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {}
          res({ status: r.statusCode ?? 0, body });
        });
      },
    );
    req.on("error", rej);
    req.end(raw);
  });
}

interface Want {
  /** Must be refused (4xx). */
  refuse?: boolean;
  /** The exact status and error code expected. */
  status?: number;
  code?: string;
  /** A detail whose `field` contains this must name the cause. */
  field?: string;
}

/**
 * The state every tier is in now. A refused case's "after" (equal to its "before") and an accepted
 * case's state once its jobs settled are the next case's "before": no request runs in between,
 * so each case costs one snapshot, not two.
 */
let current: Tiers | undefined;

/**
 * Runs one request and returns what is wrong with it: a 5xx, an unexpected status or code, a
 * stack trace, a refusal that changed any value of any tier, or an accepted request that stored a
 * prototype key (or, when it had to be refused, what it changed).
 */
async function probe(
  method: string,
  path: string,
  raw: string | undefined,
  headers: Record<string, string> = {},
  want: Want = {},
): Promise<{ status: number; body: any; problems: string[] }> {
  const before = current ?? (await tiers());
  current = undefined;
  const r = await send(method, path, raw, headers);
  const problems: string[] = [];
  const code = r.body?.error?.code;
  const said = `${r.status} ${JSON.stringify(r.body)?.slice(0, 200)}`;
  // 501 is the one 5xx by design: Google Calendar is not configured on this server.
  if (r.status >= 500 && !(r.status === 501 && code === "google_disabled")) problems.push(`5xx: ${said}`);
  if (r.status >= 400) {
    if (want.status !== undefined && r.status !== want.status)
      problems.push(`status ${said}, want ${want.status}`);
    if (want.code !== undefined && code !== want.code) problems.push(`code ${said}, want ${want.code}`);
    const details: { field?: string }[] = r.body?.error?.details ?? [];
    if (want.field !== undefined && !details.some((d) => d.field?.includes(want.field as string)))
      problems.push(`no detail naming ${want.field}: ${said}`);
    if (typeof code !== "string") problems.push(`no error code: ${said}`);
    if (/\bat \S+\.(ts|js):\d+|node_modules/.test(JSON.stringify(r.body)))
      problems.push(`stack trace: ${said}`);
    const after = await tiers();
    const changed = diffTiers(before, after);
    if (changed.length) problems.push(`refused (${r.status} ${code}) but changed: ${changed.join(" | ")}`);
    current = after;
  } else {
    if (want.refuse || want.status !== undefined) ran.wrongly_accepted++;
    else ran.accepted++;
    if (r.status === 202 && typeof r.body?.job_id === "string") {
      const failed = await jobOutcome(r.body.job_id);
      if (failed) problems.push(`accepted (202), its write was never stored: ${failed}`);
    }
    await settle();
    const after = await tiers();
    if (want.refuse || want.status !== undefined) {
      const changed = diffTiers(before, after);
      problems.push(
        `accepted, must be refused${want.status ? ` with ${want.status} ${want.code}` : ""}: ${said}; ` +
          `it changed ${changed.length} keys/items: ${changed.slice(0, 4).join(" | ").slice(0, 600)}`,
      );
    }
    // Only what this request stored: an earlier case's finding is not reported again.
    const had = new Set(storedProtoKeys(before));
    const stored = storedProtoKeys(after).filter((k) => !had.has(k));
    if (stored.length)
      problems.push(`accepted (${r.status}) and stored prototype keys: ${stored.join(", ")}`);
    current = after;
  }
  return { ...r, problems };
}

const what = (method: string, path: string, raw: string | undefined, note = "") =>
  `${method} ${path.slice(0, 200)} ${String(raw).slice(0, 160)}${note ? ` [${note}]` : ""}`;

/** A property case: all of its problems fail it at once. */
async function mustPass(...args: Parameters<typeof probe>) {
  const r = await probe(...args);
  expect(r.problems, what(args[0], args[1], args[2])).toEqual([]);
  return r;
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
  ["POST", `/v1/users/${U}/infer`],
  ["POST", `/v1/users/${U}/digest`],
];
const deleteRoutes = () => [
  ["DELETE", `/v1/users/${U}/goals/${ids.goal}`],
  ["DELETE", `/v1/users/${U}/todos/${ids.todo}`],
  ["DELETE", `/v1/users/${U}/events/${ids.event}`],
  ["DELETE", `/v1/users/${VICTIM}`],
];

/**
 * The routes whose handler reads Idempotency-Key (through submitWrite, src/http/write.ts). The
 * fixed matrix probes every write route; POST infer, POST digest and DELETE /users/:u do not read it.
 */
const keyedRoutes = () =>
  [...writeRoutes(), ...deleteRoutes()].filter(
    ([m, p]) => !/\/(infer|digest)$/.test(p as string) && !(m === "DELETE" && p === `/v1/users/${VICTIM}`),
  );

/** A valid body for each write route: a bad header or query parameter is then the only fault. */
const VALID: Record<string, Record<string, unknown>> = {
  profile: { name: "Ana" },
  preferences: { food_preferences: ["ramen"] },
  state: { mood: "ok" },
  goals: { title: "G" },
  progress: { note: "n", percent: 10 },
  todos: { text: "T", priority: 2 },
  events: { summary: "E", start: "2026-12-02T10:00:00Z" },
  feedback: { interaction_id: "i1", rating: 4 },
  journal: { text: "a day" },
  infer: { text: "I like ramen" },
  digest: {},
};
const validBody = (path: string): Record<string, unknown> => {
  const seg = path
    .split("/")
    .filter((s) => !Object.values(ids).includes(s))
    .at(-1) as string;
  const body = VALID[seg];
  if (!body) throw new Error(`no valid body for ${path}`);
  return body;
};

/** Values that break schemas: wrong types, boundaries, oversized, unicode, prototype keys, deep nesting. */
const nasty = fc.oneof(
  fc.constantFrom(
    null,
    true,
    -1,
    0,
    6,
    101,
    1e308,
    -0,
    "",
    " ",
    "x".repeat(LIMITS.shortText + 1),
    "x".repeat(LIMITS.longText + 1),
    "x".repeat(70_000),
    "2026-02-30",
    "2026-13-01T00:00:00Z",
    "9999-99-99",
    "Mars/Olympus",
    "+0",
    "not-an-email",
    "\u0000",
    "\u202e",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "../../etc/passwd",
    "{user}",
    "*",
    "a:b",
    "#{x}",
    ":pk",
    "attribute_exists(pk)",
    "'; DROP TABLE x; --",
    "redis.call('FLUSHALL')",
    ["a", 1, null],
    Array.from({ length: LIMITS.listItems + 1 }, (_, i) => `item ${i}`),
    // Own `__proto__` / `constructor` / `prototype` keys (JSON.parse makes them own properties,
    // so JSON.stringify sends them; an object literal `{ __proto__: … }` would send `{}`).
    JSON.parse('{"__proto__": {"polluted": true}}'),
    JSON.parse('{"constructor": {"prototype": {"polluted": true}}}'),
    JSON.parse('{"prototype": {"polluted": true}, "__proto__": ["x"]}'),
  ),
  fc.string({ maxLength: 300 }),
  fc.string({ unit: "grapheme", maxLength: 50 }),
  fc.array(fc.string(), { maxLength: 120 }),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 6 }),
);
const fieldNames = fc.constantFrom(
  "name",
  "date_of_birth",
  "email",
  "phone",
  "timezone",
  "locale",
  "title",
  "description",
  "text",
  "summary",
  "start",
  "end",
  "due_date",
  "status",
  "priority",
  "rating",
  "interaction_id",
  "comments",
  "tags",
  "attributes",
  "food_preferences",
  "mood",
  "note",
  "percent",
  "at",
  "__proto__",
  "constructor",
  "prototype",
  "unknown_field",
  "",
  "a.b",
  "$where",
);
const badBody = fc.oneof(fc.dictionary(fieldNames, nasty, { minKeys: 1, maxKeys: 6 }), nasty);

const deep = (n: number) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`;
const deepArray = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;

/** Ids that are not ids: traversal, key separators, hash tags, glob characters, spaces, unicode. */
const weirdId = fc.oneof(
  fc.constantFrom(
    "../x",
    "..",
    "a:b",
    "{u}",
    "}{",
    "*",
    "a*",
    "a b",
    " a",
    "a\tb",
    "a?b",
    "a[b]",
    "%2e%2e",
    "ü",
    "a/b",
    "a\\b",
    "a#b",
    "__proto__x;",
    "USER#x",
    "a".repeat(65),
  ),
  fc.string({ minLength: 1, maxLength: 80 }).filter((s) => !/^[A-Za-z0-9_-]{1,64}$/.test(s)),
);

/** Constant bad bodies; `raw` may depend on the route's valid body (a fault beside valid fields). */
interface BadBody {
  name: string;
  raw: (valid: Record<string, unknown>) => string;
  status: number;
  code: string;
  field?: string;
  headers?: Record<string, string>;
}
/** The valid body with `key`'s value replaced by raw JSON text (which may hold own `__proto__` keys). */
const replaceField = (valid: Record<string, unknown>, key: string, rawValue: string) =>
  `{${Object.entries(valid)
    .map(([k, v]) => `${JSON.stringify(k)}: ${k === key ? rawValue : JSON.stringify(v)}`)
    .join(", ")}}`;
const withFirst = (valid: Record<string, unknown>, rawValue: string) => {
  const [first] = Object.keys(valid);
  return first ? replaceField(valid, first, rawValue) : `{"x": ${rawValue}}`;
};
const beside = (rawPair: string) => (valid: Record<string, unknown>) => {
  const inner = JSON.stringify(valid).slice(1, -1);
  return `{${rawPair}${inner ? `, ${inner}` : ""}}`;
};
const invalidJson = { status: 400, code: "invalid_json" };
const invalidBody = { status: 400, code: "validation_failed" };
const BAD_BODIES: BadBody[] = [
  { name: "empty body", raw: () => "", ...invalidJson },
  { name: "unclosed object", raw: () => "{", ...invalidJson },
  { name: "trailing comma", raw: (v) => `${JSON.stringify(v).slice(0, -1)},}`, ...invalidJson },
  { name: "single quotes", raw: () => "{'text': 'a'}", ...invalidJson },
  { name: "NUL byte", raw: () => "\u0000", ...invalidJson },
  { name: "two documents", raw: (v) => `${JSON.stringify(v)}${JSON.stringify(v)}`, ...invalidJson },
  { name: "top-level null", raw: () => "null", ...invalidJson },
  { name: "top-level string", raw: () => '"just a string"', ...invalidJson },
  { name: "array of a valid body", raw: (v) => JSON.stringify([v]), ...invalidBody },
  {
    name: "__proto__ key",
    raw: () => '{"__proto__": {"polluted": true}}',
    ...invalidBody,
    field: "__proto__",
  },
  {
    name: "__proto__ beside valid fields",
    raw: beside('"__proto__": {"polluted": true}'),
    ...invalidBody,
    field: "__proto__",
  },
  {
    name: "constructor beside valid fields",
    raw: beside('"constructor": {"prototype": {"polluted": true}}'),
    ...invalidBody,
    field: "constructor",
  },
  {
    name: "prototype key",
    raw: beside('"prototype": {"polluted": true}'),
    ...invalidBody,
    field: "prototype",
  },
  {
    name: "__proto__ inside a field",
    raw: (v) => withFirst(v, '{"__proto__": {"polluted": true}}'),
    ...invalidBody,
  },
  { name: "deep object (5,000 levels)", raw: () => deep(5000), ...invalidBody },
  { name: "deep array (10,000 levels)", raw: () => deepArray(10_000), ...invalidBody },
  {
    name: "body over 64 KiB",
    raw: () => `{"text":"${"x".repeat(LIMITS.bodyBytes)}"}`,
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "valid body, not UTF-8",
    raw: (v) => JSON.stringify(v),
    headers: { "content-type": "application/json; charset=latin1" },
    status: 415,
    code: "unsupported_encoding",
  },
];
/** Each a wrong type for every field of every element (strings, lists, integers, enums, dates). */
const WRONG_TYPES: [string, string][] = [
  ["boolean", "true"],
  ["object", '{"a": 1}'],
  ["fraction", "123.5"],
  ["nested list", "[[1]]"],
];

/** Erasure probes need a user to erase: a wrongly accepted one must not leave the next with nothing. */
async function ensureVictim() {
  if ((await t.api("GET", `/v1/users/${VICTIM}/profile`)).status !== 200) {
    await t.api("PUT", `/v1/users/${VICTIM}/profile`, { name: "Victim" });
    await t.api("POST", `/v1/users/${VICTIM}/todos`, { text: "victim todo" });
    await settle();
  }
  current = undefined;
}

/** Runs fixed cases, collecting every problem: one failure does not hide the others. */
async function matrix(
  counter: keyof typeof ran,
  cases: {
    method: string;
    path: string;
    raw?: string;
    headers?: Record<string, string>;
    want: Want;
    note: string;
  }[],
) {
  const failures: string[] = [];
  for (const c of cases) {
    ran[counter]++;
    if (c.path.startsWith(`/v1/users/${VICTIM}`)) await ensureVictim();
    const r = await probe(c.method, c.path, c.raw, c.headers, c.want);
    for (const p of r.problems) failures.push(`${what(c.method, c.path, c.raw, c.note)}: ${p}`);
  }
  expect(failures).toEqual([]);
}

// Roughly 10 ms a case on a busy 2-core machine: the time limit grows with the number of cases.
describe("bad input, property-based and fixed", { timeout: 60_000 + RUNS * 250 }, () => {
  beforeAll(async () => {
    t = await startMemorySystem({
      env: { CADENCE_SCHEDULES: "off", EMBED_DEBOUNCE_MS: "0", JOURNAL_DEBOUNCE_MS: "0" },
    });
    const seed = async (method: string, path: string, body: unknown) => {
      const r = await t.api(method, path, body);
      expect(r.status, `${method} ${path} ${JSON.stringify(r.body)}`).toBeLessThan(300);
      return r.body;
    };
    const base = `/v1/users/${U}`;
    // A value of every kind, so a refused request has something to corrupt.
    await seed("PUT", `${base}/profile`, { name: "Seed Name", email: "seed@example.com", timezone: "UTC" });
    await seed("PUT", `${base}/preferences`, { food_preferences: ["pho"], attributes: { shoe_size: "42" } });
    await seed("PATCH", `${base}/state`, { mood: "calm", focus_areas: ["sleep"] });
    const g = await seed("POST", `${base}/goals`, { title: "Seed goal", priority: 2 });
    await seed("POST", `${base}/goals/${g.goal_id}/progress`, { note: "first step", percent: 5 });
    const d = await seed("POST", `${base}/todos`, { text: "Seed todo", due_date: "2026-12-01" });
    const e = await seed("POST", `${base}/events`, { summary: "Seed", start: "2026-12-01T10:00:00Z" });
    await seed("POST", `${base}/feedback`, {
      interaction_id: "seed-1",
      rating: 5,
      comments: "short answers",
    });
    await seed("POST", `${base}/journal`, { text: "a seeded day" });
    await seed("PUT", `/v1/users/${VICTIM}/profile`, { name: "Victim" });
    await seed("POST", `/v1/users/${VICTIM}/todos`, { text: "victim todo" });
    ids = { goal: g.goal_id, todo: d.todo_id, event: e.event_id };
    snap = t.system.redis.duplicate();
    await settle();
    const s = await tiers();
    const hot = t.system.deps.hot;
    for (const k of [
      `${hot.base(U)}seq`,
      `${hot.base(U)}doc:profile:self`,
      `${hot.base(U)}doc:state:self`,
      `${hot.base(U)}doc:feedback_summary:self`,
      hot.docKey(U, "goal", ids.goal),
      hot.docKey(U, "todo", ids.todo),
      hot.docKey(U, "event", ids.event),
      `${hot.base(VICTIM)}seq`,
    ])
      expect(s.redis.has(k), k).toBe(true);
    for (const sk of [
      "PROFILE",
      "PREFERENCES",
      "STATE",
      "FEEDBACK_SUMMARY",
      `GOAL#${ids.goal}`,
      `TODO#${ids.todo}`,
    ])
      expect(s.dynamodb.has(`USER#${U}|${sk}`), sk).toBe(true);
    expect([...s.dynamodb.keys()].some((k) => k.startsWith(`USER#${U}|~FEEDBACK#`))).toBe(true);
    expect(storedProtoKeys(s)).toEqual([]);
    current = s;
  });
  afterAll(async () => {
    const total = Object.entries(ran)
      .filter(([k]) => k !== "accepted" && k !== "wrongly_accepted")
      .reduce((a, [, v]) => a + v, 0);
    console.log(`property cases run: ${total} ${JSON.stringify(ran)}`);
    await snap?.quit();
    await t?.stop();
  });

  it("the before/after comparison sees one changed value in any tier (it is not vacuous)", async () => {
    const redis = t.system.redis;
    const hot = t.system.deps.hot;
    const base = await tiers();
    const seqKey = `${hot.base(U)}seq`;
    const profileKey = `${hot.base(U)}doc:profile:self`;
    const todoKey = hot.docKey(U, "todo", ids.todo);
    const seq = (await redis.get(seqKey)) as string;
    const name = (await redis.hget(profileKey, "name")) as string;
    const rev = (await redis.hget(todoKey, "_rev")) as string;
    const item = base.items.get(`USER#${U}|GOAL#${ids.goal}`) as Record<string, unknown>;
    const put = (Item: Record<string, unknown>) =>
      db().send(new PutCommand({ TableName: t.config.DYNAMODB_TABLE, Item }));
    // Same keys, same items, values changed: what a key-name comparison cannot see.
    await redis.set(seqKey, String(Number(seq) + 1));
    await redis.hset(profileKey, "name", JSON.stringify("Mallory"));
    await redis.hset(todoKey, "_rev", String(Number(rev) + 1));
    await put({ ...item, rev: Number(item.rev) + 1 });
    const changed = diffTiers(base, await tiers());
    await redis.set(seqKey, seq);
    await redis.hset(profileKey, "name", name);
    await redis.hset(todoKey, "_rev", rev);
    await put(item);
    const q = JSON.stringify;
    expect(changed.sort()).toEqual(
      [
        `~redis ${profileKey}: name: ${q(name)} -> ${q(q("Mallory"))}`,
        `~redis ${seqKey}: ${q(seq)} -> ${q(String(Number(seq) + 1))}`,
        `~redis ${todoKey}: _rev: ${q(rev)} -> ${q(String(Number(rev) + 1))}`,
        `~dynamodb USER#${U}|GOAL#${ids.goal}: rev: ${item.rev} -> ${Number(item.rev) + 1}`,
      ].sort(),
    );
    const restored = await tiers();
    expect(diffTiers(base, restored)).toEqual([]);
    current = restored;
  });

  it("preference attribute keys __proto__ / constructor / prototype: refused, nothing stored", async () => {
    // The attribute key rule (^[a-z0-9_]{1,64}$) lets these three through; they must not reach storage.
    const cases = ["PUT", "PATCH"].flatMap((method) =>
      ["__proto__", "constructor", "prototype"].map((key) => ({ method, key })),
    );
    const failures: string[] = [];
    for (const { method, key } of cases) {
      ran.matrix_proto_attributes++;
      // ?wait=false: a write that is accepted but cannot be stored is not waited on for a minute.
      const path = `/v1/users/${U}/preferences?wait=false`;
      const raw = `{"attributes": {${JSON.stringify(key)}: "x", "shoe_size": "43"}}`;
      const r = await probe(
        method,
        path,
        raw,
        {},
        {
          refuse: true,
          status: 400,
          code: "validation_failed",
          field: "body.attributes",
        },
      );
      for (const p of r.problems) failures.push(`${what(method, path, raw)}: ${p}`);
      if (r.status < 400) {
        // Put the seeded preferences back and drop the job (its payload holds the key), so later
        // cases do not inherit what this one stored.
        const id = r.body?.job_id;
        if (typeof id === "string") await (await t.system.deps.persist.queue.getJob(id))?.remove();
        await t.api("PUT", `/v1/users/${U}/preferences`, {
          food_preferences: ["pho"],
          attributes: { shoe_size: "42" },
        });
        await settle();
        current = undefined;
      }
    }
    expect(failures).toEqual([]);
  });

  it("every write route x every constant bad body: the stable code, nothing changed", async () => {
    await matrix(
      "matrix_bodies",
      writeRoutes().flatMap(([method, path]) =>
        BAD_BODIES.map((b) => ({
          method: method as string,
          path: path as string,
          raw: b.raw(validBody(path as string)),
          ...(b.headers ? { headers: b.headers } : {}),
          want: { refuse: true, status: b.status, code: b.code, ...(b.field ? { field: b.field } : {}) },
          note: b.name,
        })),
      ),
    );
  });

  it("every write route x a wrong type in every field: 400 naming the field, nothing changed", async () => {
    await matrix(
      "matrix_wrong_types",
      writeRoutes().flatMap(([method, path]) => {
        const valid = validBody(path as string);
        const fields = Object.keys(valid).length ? Object.keys(valid) : ["x"];
        return fields.flatMap((f) =>
          WRONG_TYPES.map(([kind, rawValue]) => ({
            method: method as string,
            path: path as string,
            raw: Object.keys(valid).length ? replaceField(valid, f, rawValue) : `{"x": ${rawValue}}`,
            want: { refuse: true, status: 400, code: "validation_failed", field: `body.${f}` },
            note: `${f}: ${kind}`,
          })),
        );
      }),
    );
  });

  it("every write route and every DELETE x bad Idempotency-Key values: 400, nothing changed", async () => {
    const keys = ["", "x".repeat(129), "é", "tab\there"];
    await matrix(
      "matrix_idempotency",
      [...writeRoutes(), ...deleteRoutes()].flatMap(([method, path]) =>
        keys.map((k) => ({
          method: method as string,
          path: path as string,
          ...(method === "DELETE" ? {} : { raw: JSON.stringify(validBody(path as string)) }),
          headers: { "idempotency-key": k },
          want: { refuse: true, status: 400, code: "validation_failed", field: "header.idempotency-key" },
          note: `Idempotency-Key ${JSON.stringify(k.slice(0, 20))}`,
        })),
      ),
    );
  });

  it("every DELETE x ?wait= other than true/false: 400, nothing changed", async () => {
    const waits = ["", "0", "yes", "TRUE", "false ", "\u0000"];
    await matrix(
      "matrix_delete_wait",
      deleteRoutes().flatMap(([method, path]) =>
        waits.map((w) => ({
          method: method as string,
          path: `${path}?wait=${encodeURIComponent(w)}`,
          want: { refuse: true, status: 400, code: "validation_failed", field: "query.wait" },
          note: "?wait=",
        })),
      ),
    );
  });

  it("DELETE /google ?purge=: bad values 400, good ones 501 google_disabled; nothing changed", async () => {
    const path = `/v1/users/${U}/google`;
    const bad = ["", "1", "0", "yes", "TRUE", "null", "{}", "x".repeat(3000), "\u0000", "true&purge=false"];
    await matrix("matrix_purge", [
      ...bad.map((v) => ({
        method: "DELETE",
        path: `${path}?purge=${v.includes("&") ? v : encodeURIComponent(v)}`,
        want: { refuse: true, status: 400, code: "validation_failed", field: "query.purge" },
        note: "bad ?purge=",
      })),
      ...["", "?purge=true", "?purge=false"].map((q) => ({
        method: "DELETE",
        path: `${path}${q}`,
        want: { refuse: true, status: 501, code: "google_disabled" },
        note: "Google not configured",
      })),
    ]);
  });

  it("JSON bodies of the wrong shape on every write route: never 5xx; refused ones write nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...writeRoutes()), badBody, async ([method, path], body) => {
        ran.bodies++;
        await mustPass(method as string, path as string, JSON.stringify(body));
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it("raw bodies: random text, valid bodies cut short or with a character changed, odd JSON", async () => {
    // The constant bad bodies (deep nesting, oversized, prototype keys, empty…) run on every route above.
    const raws = fc.oneof(
      fc.string({ maxLength: 200 }).map((s) => () => s),
      fc
        .constantFrom(
          "[1,2",
          "{'name': 'a'}",
          "0",
          '{"name": "\\ud800"}',
          '{"name": "a", "name": "b", "nope": 1}',
          '{"__proto__": {"polluted": true}, "name": "x"}',
          '{"constructor": {"prototype": {"polluted": true}}}',
        )
        .map((c) => () => c),
      fc.nat().map((i) => (valid: string) => valid.slice(0, i % valid.length)),
      fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 1 })).map(
        ([i, ch]) =>
          (valid: string) =>
            `${valid.slice(0, i % valid.length)}${ch}${valid.slice((i % valid.length) + 1)}`,
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...writeRoutes()), raws, async ([method, path], make) => {
        ran.raw++;
        await mustPass(method as string, path as string, make(JSON.stringify(validBody(path as string))));
      }),
      { numRuns: RUNS },
    );
  });

  it("ids with ../ : { } * spaces and unicode in user and item paths: 4xx, nothing written", async () => {
    const targets = fc.constantFrom(
      ["PUT", "user", "/profile", { name: "A" }],
      ["PATCH", "user", "/state", { mood: "ok" }],
      ["POST", "user", "/todos", { text: "x" }],
      ["DELETE", "user", "", undefined],
      ["GET", "user", "/export", undefined],
      ["GET", "user", "/context", undefined],
      ["GET", "goals", "", undefined],
      ["PATCH", "goals", "", { priority: 2 }],
      ["POST", "goals", "/progress", { note: "x" }],
      ["DELETE", "goals", "", undefined],
      ["GET", "todos", "", undefined],
      ["PATCH", "todos", "", { priority: 2 }],
      ["DELETE", "todos", "", undefined],
      ["GET", "events", "", undefined],
      ["PATCH", "events", "", { summary: "x" }],
      ["DELETE", "events", "", undefined],
      ["GET", "jobs", "", undefined],
    );
    await fc.assert(
      fc.asyncProperty(weirdId, targets, async (id, [method, where, tail, body]) => {
        ran.ids++;
        const seg = encodeURIComponent(id);
        const path =
          where === "user"
            ? `/v1/users/${seg}${tail}`
            : where === "jobs"
              ? `/v1/jobs/${seg}`
              : `/v1/users/${U}/${where}/${seg}${tail}`;
        await mustPass(
          method as string,
          path,
          body === undefined ? undefined : JSON.stringify(body),
          {},
          {
            refuse: true,
          },
        );
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it("query parameters of every read route: never 5xx", async () => {
    const params = fc.constantFrom(
      `/v1/users/${U}/goals?status=`,
      `/v1/users/${U}/todos?status=`,
      `/v1/users/${U}/todos?due_before=`,
      `/v1/users/${U}/events?from=`,
      `/v1/users/${U}/events?to=`,
      `/v1/users/${U}/events?from=2026-12-01&to=`,
      `/v1/users/${U}/feedback?limit=`,
      `/v1/users/${U}/feedback?cursor=`,
      `/v1/users/${U}/journal?limit=`,
      `/v1/users/${U}/journal?cursor=`,
      `/v1/users/${U}/context?max_chars=`,
      `/v1/users/${U}/context?query=`,
      `/v1/users/${U}/context?relevant_k=`,
      `/v1/users/${U}/search?q=`,
      `/v1/users/${U}/search?q=x&k=`,
      `/v1/users/${U}/search?q=x&elements=`,
      `/v1/users/${U}/google/connect?redirect=`,
      `/v1/users/${U}/goals?__proto__=`,
      `/v1/users/${U}/context?constructor=`,
    );
    const values = fc.oneof(
      fc.string({ maxLength: 100 }),
      fc.string({ unit: "grapheme", maxLength: 30 }),
      fc.constantFrom("-1", "0", "1e9", "NaN", "Infinity", "", "*", "{x}", "../", "x".repeat(3000), "true"),
    );
    await fc.assert(
      fc.asyncProperty(params, values, fc.boolean(), async (p, v, twice) => {
        ran.queries++;
        // A repeated parameter arrives as an array on some parsers: must not break either.
        const tail = twice ? `&${p.split("?")[1]}${encodeURIComponent(v)}` : "";
        await mustPass("GET", `${p}${encodeURIComponent(v)}${tail}`, undefined);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it("?wait= other than true/false on every write route: 400, nothing written", async () => {
    const routes = writeRoutes().filter(([, p]) => !p?.endsWith("/digest"));
    const waits = fc.oneof(
      fc.constantFrom("", "1", "0", "yes", "TRUE", "false ", "null", "undefined", "{}", "[]"),
      fc.string({ maxLength: 20 }).filter((s) => s !== "true" && s !== "false"),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), waits, async ([method, path], w) => {
        ran.write_queries++;
        await mustPass(
          method as string,
          `${path}?wait=${encodeURIComponent(w)}`,
          JSON.stringify(validBody(path as string)),
          {},
          { refuse: true, status: 400, code: "validation_failed", field: "query.wait" },
        );
      }),
      { numRuns: RUNS },
    );
  });

  it("bad Idempotency-Key headers on write routes: 400, nothing written", async () => {
    const keys = fc.oneof(
      fc.constantFrom("", " ", "x".repeat(129), "é", "\u00ff\u00fe"),
      fc.string({ minLength: 129, maxLength: 300 }).map((s) => s.replace(/[^\x20-\x7e]/g, "a")),
      // A space inside (edge spaces are trimmed off a header value by HTTP itself).
      fc.string({ minLength: 1, maxLength: 40 }).map((s) => `k ${s.replace(/[^\x20-\x7e]/g, "a")}k`),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...keyedRoutes()), keys, async ([method, path], k) => {
        ran.headers++;
        await mustPass(
          method as string,
          path as string,
          method === "DELETE" ? undefined : JSON.stringify(validBody(path as string)),
          { "idempotency-key": k },
          { refuse: true, status: 400, code: "validation_failed", field: "header.idempotency-key" },
        );
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });

  it("no key or item outside the users' own namespaces was ever created", async () => {
    // Redis: every hash tag is a valid id, and the only user tags are the seeded users'.
    const keys = await scanKeys(t.system.redis, t.config.KEY_PREFIX);
    const tags = new Set(keys.flatMap((k) => [...k.matchAll(/\{([^}]*)\}/g)].map((m) => m[1] as string)));
    for (const tag of tags) expect(tag, tag).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    const userTags = [...tags].filter((tag) => keys.some((k) => k.startsWith(t.system.deps.hot.base(tag))));
    for (const tag of userTags.filter((x) => x !== "cadence")) expect([U, VICTIM], tag).toContain(tag);
    expect(userTags).toContain(U);
    for (const k of [...keys, ...(await scanKeys(t.system.redis, t.config.QUEUE_PREFIX))])
      expect(k, k).not.toMatch(/\.\.|[*? \\[\]]|%2e/i);
    const s = await tiers();
    const users = new Set([...s.dynamodb.keys()].map((k) => k.split("|")[0]));
    for (const pk of users)
      expect(pk === `USER#${U}` || pk === `USER#${VICTIM}` || !pk?.startsWith("USER#"), pk).toBe(true);
    // Nothing accepted stored a prototype key anywhere.
    expect(storedProtoKeys(s)).toEqual([]);
  });

  it("no prototype of the process that served every request was polluted", () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(([] as unknown as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.create(Object.prototype).polluted).toBeUndefined();
    const inherited: string[] = [];
    for (const k in {}) inherited.push(k);
    expect(inherited).toEqual([]);
    expect(protoNames()).toEqual(PROTO_BASELINE);
  });
});
