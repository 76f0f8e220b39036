import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSystem, TEST_KEY, type TestSystem } from "./support/system.js";
import { TEST_JWT_SECRET, userToken } from "./support/tokens.js";

const PER_KEY = 30;
const PER_USER = 12;
const KEYS = `${TEST_KEY},second-service-key,third-service-key`;

/**
 * Sends GETs, alternating between the two instances, until one answers 429; returns how many
 * were allowed. Token buckets refill continuously (PER_USER/min = one per 5 s), so the
 * assertions leave room for a slow machine instead of counting exactly.
 */
async function drain(apis: TestSystem[], path: string, token: string, cap = 200) {
  for (let i = 0; i < cap; i++) {
    const r = await apis[i % apis.length]?.api("GET", path, undefined, { token });
    if (r?.status === 429) return { allowed: i, last: r };
    expect([200, 404]).toContain(r?.status);
  }
  throw new Error(`no 429 after ${cap} requests`);
}

describe("rate limits shared by two API processes through Redis", () => {
  let a: TestSystem;
  let b: TestSystem;
  beforeAll(async () => {
    const env = {
      MEMORY_API_KEYS: KEYS,
      MEMORY_JWT_SECRET: TEST_JWT_SECRET,
      RATE_LIMIT_PER_KEY: String(PER_KEY),
      RATE_LIMIT_PER_USER: String(PER_USER),
    };
    a = await startTestSystem({ env });
    b = await startTestSystem({
      workers: [],
      env: {
        ...env,
        KEY_PREFIX: a.config.KEY_PREFIX,
        QUEUE_PREFIX: a.config.QUEUE_PREFIX,
        DYNAMODB_TABLE: a.config.DYNAMODB_TABLE,
        DYNAMODB_ENDPOINT: a.system.dynamoEndpoint as string,
      },
    });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it("limits a user across both instances and answers 429 with Retry-After and a JSON error", async () => {
    const { allowed, last } = await drain([a, b], "/v1/users/rl-u1/context", TEST_KEY);
    // Each instance alone saw about half: only a shared bucket stops at PER_USER in total.
    expect(allowed).toBeGreaterThanOrEqual(PER_USER);
    expect(allowed).toBeLessThan(PER_USER + 6);
    const retry = Number(last.headers.get("retry-after"));
    expect(Number.isInteger(retry) && retry >= 1 && retry <= 60).toBe(true);
    expect(last.body).toEqual({
      error: {
        code: "rate_limited",
        message: expect.stringMatching(/this user may make 12 requests per minute/),
      },
    });
    // The second key acts on the same user: same (user) bucket, still limited.
    expect(
      (await b.api("GET", "/v1/users/rl-u1/context", undefined, { token: "second-service-key" })).status,
    ).toBe(429);
    // Another user is not affected.
    expect((await a.api("GET", "/v1/users/rl-u2/context")).status).toBe(404);
  });

  it("limits a service key across users and instances", async () => {
    let allowed = 0;
    let last: Awaited<ReturnType<TestSystem["api"]>> | undefined;
    // A fresh user per request: only the key's bucket can run out.
    for (let i = 0; i < 200; i++) {
      last = await [a, b][i % 2]?.api("GET", `/v1/users/rl-k${i}/context`, undefined, {
        token: "third-service-key",
      });
      if (last?.status === 429) break;
      allowed++;
    }
    expect(last?.status).toBe(429);
    expect(allowed).toBeGreaterThanOrEqual(PER_KEY);
    expect(allowed).toBeLessThan(PER_KEY + 10);
    expect(last?.body.error.message).toMatch(/this key may make 30 requests per minute/);
    expect(Number(last?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  it("limits a user token by its user; another user's refused token does not drain the victim", async () => {
    const victim = await userToken("rl-victim");
    const attacker = await userToken("rl-attacker");
    for (let i = 0; i < PER_USER + 5; i++) {
      const r = await [a, b][i % 2]?.api("GET", "/v1/users/rl-victim/context", undefined, {
        token: attacker,
      });
      expect([403, 429]).toContain(r?.status);
    }
    // The attacker's own bucket ran out; the victim's is untouched.
    expect((await a.api("GET", "/v1/users/rl-attacker/context", undefined, { token: attacker })).status).toBe(
      429,
    );
    const { allowed } = await drain([a, b], "/v1/users/rl-victim/context", victim);
    expect(allowed).toBeGreaterThanOrEqual(PER_USER);
  });
});
