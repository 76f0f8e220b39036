import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bigString, expectInvalid, refusedWithoutWrite, startMemorySystem } from "../support/memory.js";
import type { TestSystem } from "../support/system.js";

const FULL = {
  occupation: "nurse",
  food_preferences: ["vegetarian", "spicy"],
  sport_preferences: ["swimming"],
  hobby_preferences: ["chess", "baking"],
  languages: ["pt", "en"],
  travel_styles: ["slow travel"],
  attributes: { coffee: "black", pets: ["cat", "dog"] },
  schema_version: 1,
};

describe("preferences (advanced info)", () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startMemorySystem();
  });
  afterAll(async () => t?.stop());

  it("404s before anything was stored", async () => {
    expect((await t.api("GET", "/v1/users/pr-empty/preferences")).status).toBe(404);
  });

  it("PUT, GET and PATCH round-trip lists and the attributes map", async () => {
    const put = await t.api("PUT", "/v1/users/pr1/preferences", FULL);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ ...FULL, version: 1 });

    const get = await t.api("GET", "/v1/users/pr1/preferences");
    expect(get.body).toEqual(put.body);

    const patch = await t.api("PATCH", "/v1/users/pr1/preferences", {
      attributes: { coffee: "with milk" },
      travel_styles: null,
      languages: ["pt", "en", "fr"],
    });
    expect(patch.status).toBe(200);
    expect(patch.body.version).toBe(2);
    // attributes is one field: a PATCH replaces the whole map.
    expect(patch.body.attributes).toEqual({ coffee: "with milk" });
    expect(patch.body).not.toHaveProperty("travel_styles");
    expect(patch.body.languages).toEqual(["pt", "en", "fr"]);
    expect(patch.body.food_preferences).toEqual(FULL.food_preferences);
    expect((await t.system.deps.store.get("pr1", "preferences"))?.data).toEqual({
      ...FULL,
      travel_styles: undefined,
      attributes: { coffee: "with milk" },
      languages: ["pt", "en", "fr"],
    });
  });

  it("accepts lists and maps at their limits", async () => {
    const attributes = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, `v${i}`]));
    const r = await t.api("PUT", "/v1/users/pr2/preferences", {
      food_preferences: Array.from({ length: 100 }, (_, i) => `food ${i}`),
      attributes,
    });
    expect(r.status).toBe(200);
    expect(r.body.food_preferences).toHaveLength(100);
    expect(Object.keys(r.body.attributes)).toHaveLength(100);
  });

  describe("bad input is refused with 400 and nothing is enqueued or written", () => {
    const U = "pr-bad";
    const cases: [string, unknown, string, string][] = [
      ["list of the wrong type", { food_preferences: "pizza" }, "body.food_preferences", "invalid_type"],
      [
        "list item of the wrong type",
        { food_preferences: ["a", 5] },
        "body.food_preferences.1",
        "invalid_type",
      ],
      [
        "too many list items",
        { hobby_preferences: Array.from({ length: 101 }, (_, i) => `h${i}`) },
        "body.hobby_preferences",
        "too_big",
      ],
      ["oversized list item", { sport_preferences: [bigString(201)] }, "body.sport_preferences.0", "too_big"],
      ["oversized string", { occupation: bigString(101) }, "body.occupation", "too_big"],
      ["bad attribute key", { attributes: { "Bad Key": "x" } }, "body.attributes.Bad Key", "invalid_key"],
      ["bad attribute value", { attributes: { age: 5 } }, "body.attributes.age", "invalid_union"],
      // JSON.parse makes these own keys, as express.json does with a request body.
      [
        "reserved key __proto__",
        JSON.parse('{"attributes": {"__proto__": "x"}}'),
        "body.attributes",
        "reserved_key",
      ],
      ["reserved key constructor", { attributes: { constructor: "x" } }, "body.attributes", "reserved_key"],
      [
        "reserved key prototype",
        { attributes: { prototype: "x", ok: "1" } },
        "body.attributes",
        "reserved_key",
      ],
      [
        "too many attributes",
        { attributes: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, "v"])) },
        "body.attributes",
        "too_big",
      ],
      ["schema_version not an integer", { schema_version: 1.5 }, "body.schema_version", "invalid_type"],
      ["schema_version too small", { schema_version: 0 }, "body.schema_version", "too_small"],
      ["unknown field", { favourite_colour: "blue" }, "body.favourite_colour", "unknown_field"],
    ];
    for (const [what, body, field, rule] of cases) {
      for (const method of ["PUT", "PATCH"]) {
        it(`${method}: ${what}`, async () => {
          const r = await refusedWithoutWrite(t, U, () => t.api(method, `/v1/users/${U}/preferences`, body));
          expectInvalid(r, field, rule);
        });
      }
    }

    it("malformed JSON, empty PATCH, oversized body", async () => {
      const bad = await refusedWithoutWrite(t, U, () =>
        t.api("PUT", `/v1/users/${U}/preferences`, undefined, { raw: "{'single': 'quotes'}" }),
      );
      expect(bad.body.error.code).toBe("invalid_json");
      expectInvalid(await t.api("PATCH", `/v1/users/${U}/preferences`, {}), "body", "empty_patch");
      const big = await refusedWithoutWrite(t, U, () =>
        t.api("PUT", `/v1/users/${U}/preferences`, {
          attributes: Object.fromEntries(
            Array.from({ length: 100 }, (_, i) => [
              `k${i}`,
              Array.from({ length: 20 }, () => bigString(100)),
            ]),
          ),
        }),
      );
      expect(big.status).toBe(413);
      expect(await t.system.deps.store.countUserItems(U)).toBe(0);
    });
  });
});
