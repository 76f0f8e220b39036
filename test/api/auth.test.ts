import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATIONS } from "../../src/http/openapi-routes.js";
import { refusedWithoutWrite, startMemorySystem } from "../support/memory.js";
import type { TestSystem } from "../support/system.js";

const U = "auth-user";

/** Every route issue 2 defines: checked explicitly so none can silently drop out of the list. */
const ISSUE_2_ROUTES = [
  "GET /v1/users/:user_id/profile",
  "PUT /v1/users/:user_id/profile",
  "PATCH /v1/users/:user_id/profile",
  "GET /v1/users/:user_id/preferences",
  "PUT /v1/users/:user_id/preferences",
  "PATCH /v1/users/:user_id/preferences",
  "GET /v1/users/:user_id/state",
  "PUT /v1/users/:user_id/state",
  "PATCH /v1/users/:user_id/state",
  "POST /v1/users/:user_id/goals",
  "GET /v1/users/:user_id/goals",
  "GET /v1/users/:user_id/goals/:item_id",
  "PATCH /v1/users/:user_id/goals/:item_id",
  "DELETE /v1/users/:user_id/goals/:item_id",
  "POST /v1/users/:user_id/goals/:item_id/progress",
  "POST /v1/users/:user_id/todos",
  "GET /v1/users/:user_id/todos",
  "GET /v1/users/:user_id/todos/:item_id",
  "PATCH /v1/users/:user_id/todos/:item_id",
  "DELETE /v1/users/:user_id/todos/:item_id",
  "POST /v1/users/:user_id/events",
  "GET /v1/users/:user_id/events",
  "GET /v1/users/:user_id/events/:item_id",
  "PATCH /v1/users/:user_id/events/:item_id",
  "DELETE /v1/users/:user_id/events/:item_id",
  "POST /v1/users/:user_id/feedback",
  "GET /v1/users/:user_id/feedback",
  "GET /v1/users/:user_id/feedback/summary",
  "GET /v1/users/:user_id/context",
  "GET /v1/jobs/:job_id",
];

const authenticated = OPERATIONS.filter((o) => o.path.startsWith("/v1/") && o.auth !== false).map(
  (o) => `${o.method} ${o.path}`,
);
const routes = [...new Set([...ISSUE_2_ROUTES, ...authenticated])];

describe("every /v1 route needs a valid bearer key", () => {
  let t: TestSystem;
  let goalId: string;
  beforeAll(async () => {
    t = await startMemorySystem();
    const g = await t.api("POST", `/v1/users/${U}/goals`, { title: "exists" });
    expect(g.status).toBe(201);
    goalId = g.body.goal_id;
  });
  afterAll(async () => t?.stop());

  const concrete = (path: string) =>
    path
      .replace(":user_id", U)
      .replace(":item_id", goalId)
      .replace(":job_id", "some-job")
      .replace(/:[a-z_]+/g, "x");
  // A valid body for every write, so nothing but the credentials can be the reason for a refusal.
  const body = (method: string, path: string) => {
    if (method === "GET" || method === "DELETE") return undefined;
    if (path.endsWith("/progress")) return { note: "n" };
    if (path.includes("/goals")) return { title: "t" };
    if (path.includes("/todos")) return { text: "t" };
    if (path.includes("/events")) return { summary: "s", start: "2026-05-01" };
    if (path.includes("/feedback")) return { interaction_id: "i", rating: 4 };
    return { name: "n" };
  };

  it("the operation list covers every issue-2 route", () => {
    for (const r of ISSUE_2_ROUTES) expect(authenticated).toContain(r);
  });

  const credentials: [string, Record<string, string> | null, string | undefined][] = [
    ["no Authorization header", null, undefined],
    ["a wrong key", {}, "not-the-key"],
    ["a Basic scheme", { authorization: "Basic dGVzdC1zZXJ2aWNlLWtleTo=" }, undefined],
    ["an empty bearer", { authorization: "Bearer " }, undefined],
  ];
  for (const route of routes) {
    const [method, path] = route.split(" ") as [string, string];
    it(`${route} → 401`, async () => {
      for (const [what, headers, token] of credentials) {
        const r = await refusedWithoutWrite(t, U, () =>
          t.api(method, concrete(path), body(method, path), {
            token: headers === null || headers.authorization ? null : token,
            headers: headers ?? {},
          }),
        );
        expect(r.status, `${route} with ${what}`).toBe(401);
        expect(r.body.error.code).toBe("unauthorized");
        expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
      }
    });
  }

  it("the same requests with the key are not refused for credentials", async () => {
    for (const route of ISSUE_2_ROUTES) {
      const [method, path] = route.split(" ") as [string, string];
      if (method === "DELETE") continue; // keeps the goal for the other routes
      const r = await t.api(method, concrete(path), body(method, path));
      expect(r.status, route).not.toBe(401);
      expect(r.status, route).not.toBe(403);
    }
  });
});
