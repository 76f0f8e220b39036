import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RouteInfo, walkApp } from "../src/ops/routes.js";
import { startTestSystem, TEST_KEY, type TestSystem } from "./support/system.js";
import { TEST_JWT_SECRET, unsignedToken, userToken } from "./support/tokens.js";

const A = "matrix-user-a";
const B = "matrix-user-b";

/**
 * Routes under /v1 that are not /v1/users/:user_id/…: each needs a resource of user A so
 * that B's token can be shown a 403. A new one fails the test until it is listed here.
 */
const FIXTURES: Record<string, (t: TestSystem) => Promise<Record<string, string>>> = {
  "GET /v1/jobs/:job_id": async (t) => {
    const r = await t.api("PUT", `/v1/users/${A}/state?wait=false`, { mood: "calm" });
    expect(r.status).toBe(202);
    return { job_id: r.body.job_id };
  },
};

const key = (r: RouteInfo) => `${r.method} ${r.path}`;
const isUserRoute = (r: RouteInfo) => /^\/v1\/users\/:user_id(\/|$)/.test(r.path);

describe("auth matrix on every /v1 route", () => {
  let t: TestSystem;
  let routes: RouteInfo[];
  const tok: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestSystem({ env: { MEMORY_JWT_SECRET: TEST_JWT_SECRET } });
    // Erasure last: it removes the job fixture and A's data, which other rows do not need.
    routes = walkApp(t.system.app as never)
      .routes.filter((r) => r.path === "/v1" || r.path.startsWith("/v1/"))
      .sort((x, y) => Number(isUserRoute(x)) - Number(isUserRoute(y)))
      .sort(
        (x, y) =>
          Number(key(x) === "DELETE /v1/users/:user_id") - Number(key(y) === "DELETE /v1/users/:user_id"),
      );
    tok.ownA = await userToken(A);
    tok.otherB = await userToken(B);
    tok.expiredA = await userToken(A, { expiresAt: new Date(Date.now() - 3600_000) });
    tok.forgedA = await userToken(A, { secret: "another-secret-0123456789abcdef-0123456789" });
  });
  afterAll(async () => t?.stop());

  it("finds the routes (the walker sees the whole tree)", () => {
    const keys = routes.map(key);
    for (const k of [
      "GET /v1/users/:user_id/profile",
      "POST /v1/users/:user_id/goals/:item_id/progress",
      "GET /v1/users/:user_id/feedback/summary",
      "GET /v1/users/:user_id/context",
      "GET /v1/users/:user_id/export",
      "DELETE /v1/users/:user_id",
      "GET /v1/jobs/:job_id",
    ]) {
      expect(keys).toContain(k);
    }
    expect(routes.length).toBeGreaterThanOrEqual(28);
  });

  it("every route outside /v1/users/:user_id has a fixture", () => {
    const uncovered = routes.filter((r) => !isUserRoute(r) && !FIXTURES[key(r)]).map(key);
    expect(uncovered, "add a fixture in FIXTURES for these routes").toEqual([]);
  });

  it("401 without or with a bad token, 403 for another user's token, allowed for its own user and a service key", async () => {
    await t.api("PUT", `/v1/users/${A}/profile`, { name: "Ana" });
    const failures: string[] = [];
    for (const r of routes) {
      const params: Record<string, string> = { user_id: A, ...(await FIXTURES[key(r)]?.(t)) };
      const path = r.path.replace(/:([A-Za-z_]+)/g, (_m, p: string) => params[p] ?? "x1");
      const body = ["POST", "PUT", "PATCH"].includes(r.method) ? {} : undefined;
      const cases: [string, string | null, (s: number) => boolean][] = [
        ["no token", null, (s) => s === 401],
        ["unknown key", "not-a-key", (s) => s === 401],
        ["near-miss key", `${TEST_KEY}x`, (s) => s === 401],
        ["alg none", unsignedToken(A), (s) => s === 401],
        ["wrong-secret JWT", tok.forgedA as string, (s) => s === 401],
        ["expired JWT", tok.expiredA as string, (s) => s === 401],
        ["other user's JWT", tok.otherB as string, (s) => s === 403],
        ["own JWT", tok.ownA as string, (s) => s !== 401 && s !== 403],
        ["service key", TEST_KEY, (s) => s !== 401 && s !== 403],
      ];
      for (const [label, token, ok] of cases) {
        const res = await t.api(r.method, path, body, { token });
        if (!ok(res.status)) failures.push(`${key(r)} with ${label}: ${res.status}`);
        if (res.status === 401 && !res.headers.get("www-authenticate")?.startsWith("Bearer")) {
          failures.push(`${key(r)} with ${label}: 401 without WWW-Authenticate`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
