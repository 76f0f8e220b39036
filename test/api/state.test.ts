import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bigString, expectInvalid, refusedWithoutWrite, startMemorySystem } from "../support/memory.js";
import type { TestSystem } from "../support/system.js";

const FIXED = new Date("2026-03-10T12:00:00.000Z");

const FULL = {
  education: "BSc Nursing",
  skills: ["triage", "spanish"],
  mood: "tired but hopeful",
  focus_areas: ["sleep", "career"],
  pain_points: ["night shifts"],
  recent_wins: ["passed the exam"],
  recent_losses: ["missed the marathon"],
};

describe("current state profile", () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startMemorySystem({ now: () => FIXED });
  });
  afterAll(async () => t?.stop());

  it("404s before anything was stored", async () => {
    expect((await t.api("GET", "/v1/users/s-empty/state")).status).toBe(404);
  });

  it("PUT and GET return the document with last_updated from the clock", async () => {
    const put = await t.api("PUT", "/v1/users/s1/state", FULL);
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ ...FULL, version: 1, last_updated: FIXED.toISOString() });
    expect((await t.api("GET", "/v1/users/s1/state")).body).toEqual(put.body);
  });

  it("PATCH writes single fields; the Redis hash holds one field per entry", async () => {
    await t.api("PUT", "/v1/users/s2/state", FULL);
    const p = await t.api("PATCH", "/v1/users/s2/state", { mood: "energised", recent_losses: null });
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ mood: "energised", skills: FULL.skills, version: 2 });
    expect(p.body).not.toHaveProperty("recent_losses");

    const key = t.system.deps.hot.docKey("s2", "state", "self");
    expect(JSON.parse((await t.system.redis.hget(key, "mood")) ?? "null")).toBe("energised");
    expect(JSON.parse((await t.system.redis.hget(key, "skills")) ?? "null")).toEqual(FULL.skills);
    expect(await t.system.redis.hexists(key, "recent_losses")).toBe(0);
    expect((await t.system.deps.store.get("s2", "state"))?.data.mood).toBe("energised");
  });

  describe("bad input is refused with 400 and nothing is enqueued or written", () => {
    const U = "s-bad";
    const cases: [string, unknown, string, string][] = [
      ["list given as string", { skills: "triage" }, "body.skills", "invalid_type"],
      ["wrong type", { mood: ["happy"] }, "body.mood", "invalid_type"],
      ["oversized string", { mood: bigString(101) }, "body.mood", "too_big"],
      [
        "too many items",
        { focus_areas: Array.from({ length: 31 }, (_, i) => `f${i}`) },
        "body.focus_areas",
        "too_big",
      ],
      ["oversized item", { recent_wins: [bigString(301)] }, "body.recent_wins.0", "too_big"],
      [
        "server-managed field",
        { last_updated: "2026-01-01T00:00:00Z" },
        "body.last_updated",
        "unknown_field",
      ],
      ["unknown field", { energy: 3 }, "body.energy", "unknown_field"],
    ];
    for (const [what, body, field, rule] of cases) {
      for (const method of ["PUT", "PATCH"]) {
        it(`${method}: ${what}`, async () => {
          const r = await refusedWithoutWrite(t, U, () => t.api(method, `/v1/users/${U}/state`, body));
          expectInvalid(r, field, rule);
        });
      }
    }

    it("malformed JSON and empty PATCH", async () => {
      const r = await refusedWithoutWrite(t, U, () =>
        t.api("PATCH", `/v1/users/${U}/state`, undefined, { raw: "mood=happy" }),
      );
      expect(r.body.error.code).toBe("invalid_json");
      expectInvalid(
        await refusedWithoutWrite(t, U, () => t.api("PATCH", `/v1/users/${U}/state`, {})),
        "body",
      );
      expect((await t.api("GET", `/v1/users/${U}/state`)).status).toBe(404);
    });
  });
});
