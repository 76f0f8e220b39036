import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSystem, type TestSystem } from "./support/system.js";

describe("smoke", () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startTestSystem();
  });
  afterAll(async () => t?.stop());

  it("answers healthz without auth and writes a profile through the queue", async () => {
    expect((await t.api("GET", "/healthz", undefined, { token: null })).status).toBe(200);
    const put = await t.api("PUT", "/v1/users/u1/profile", { name: "Ana", timezone: "Europe/Paris" });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ name: "Ana", timezone: "Europe/Paris", version: 1 });
    const get = await t.api("GET", "/v1/users/u1/profile");
    expect(get.body.name).toBe("Ana");
  });
});
