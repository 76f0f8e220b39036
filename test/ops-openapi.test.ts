import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toOpenApiPath } from "../src/http/openapi.js";
import { walkApp } from "../src/ops/routes.js";
import { startTestSystem, type TestSystem } from "./support/system.js";

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, any> };
};

describe("GET /openapi.json", () => {
  let t: TestSystem;
  let doc: Doc;
  beforeAll(async () => {
    t = await startTestSystem({ workers: [] });
    const res = await fetch(`${t.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    doc = JSON.parse(await res.text());
  });
  afterAll(async () => t?.stop());

  it("is an OpenAPI 3.1 document whose every $ref resolves", () => {
    expect(doc.openapi).toBe("3.1.0");
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map(
      (m) => m[1],
    );
    expect(refs.length).toBeGreaterThan(50);
    for (const r of new Set(refs)) expect(doc.components.schemas[r as string], r).toBeDefined();
  });

  it("documents exactly the routes registered in the Express app", () => {
    const app = t.system.app;
    if (!app) throw new Error("the system has no API app");
    const registered = walkApp(app)
      .routes.map((r) => `${r.method} ${toOpenApiPath(r.path)}`)
      .sort();
    // Routes mounted only when a feature is configured may be absent from the test app.
    const documented = Object.entries(doc.paths)
      .flatMap(([p, ops]) =>
        Object.entries(ops)
          .filter(
            ([m, op]) =>
              !op.description?.startsWith("Only present when") ||
              registered.includes(`${m.toUpperCase()} ${p}`),
          )
          .map(([m]) => `${m.toUpperCase()} ${p}`),
      )
      .sort();
    expect(registered.filter((r) => r.includes(" /v1/")).length).toBeGreaterThanOrEqual(30);
    expect(documented).toEqual(registered);
  });

  it("takes request bodies from the element schemas and documents the error shape", () => {
    const put = doc.paths["/v1/users/{user_id}/profile"]?.put;
    expect(put.requestBody.content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/Profile",
    });
    const profile = doc.components.schemas.Profile;
    expect(profile.additionalProperties).toBe(false);
    expect(profile.properties.email.format).toBe("email");
    expect(profile.properties.phone.pattern).toBe("^\\+[1-9]\\d{6,14}$");
    const goalPatch = doc.components.schemas.GoalPatch;
    expect(goalPatch.properties.title.anyOf).toBeUndefined(); // required fields may not be nulled
    expect(goalPatch.properties.description.anyOf).toContainEqual({ type: "null" });
    expect(doc.components.schemas.FeedbackInput.required).toEqual(["interaction_id", "rating"]);
    expect(doc.components.schemas.Error.properties.error.required).toEqual(["code", "message"]);

    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (!path.startsWith("/v1/") || op.security?.length === 0) continue;
        expect(op.security, `${method} ${path}`).toBeUndefined(); // inherits the bearer requirement
        expect(op.responses["401"].content["application/json"].schema.$ref).toBe(
          "#/components/schemas/Error",
        );
        if (["post", "put", "patch"].includes(method)) {
          expect(op.requestBody?.required, `${method} ${path}`).toBe(true);
        }
      }
    }
    expect(doc.paths["/healthz"]?.get.security).toEqual([]);
  });
});
