import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bigString, expectInvalid, refusedWithoutWrite, startMemorySystem } from "../support/memory.js";
import { until } from "../support/ops.js";
import type { TestSystem } from "../support/system.js";

const FULL = {
  name: "Ana Lima",
  date_of_birth: "1990-04-12",
  gender: "female",
  email: "ana@example.com",
  phone: "+14155550100",
  timezone: "Europe/Paris",
  locale: "pt-BR",
};

describe("profile (basic info)", () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startMemorySystem();
  });
  afterAll(async () => t?.stop());

  it("404s before anything was stored", async () => {
    const r = await t.api("GET", "/v1/users/p-empty/profile");
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("not_found");
  });

  it("PUT stores the whole document in both tiers and GET returns it", async () => {
    const put = await t.api("PUT", "/v1/users/p1/profile", FULL);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ ...FULL, version: 1 });
    expect(Date.parse(put.body.updated_at)).not.toBeNaN();

    const get = await t.api("GET", "/v1/users/p1/profile");
    expect(get.status).toBe(200);
    expect(get.body).toEqual(put.body);

    const stored = await t.system.deps.store.get("p1", "profile");
    expect(stored?.data).toEqual(FULL);
    expect(stored?.rev).toBe(1);
    const hot = await t.system.deps.hot.getDoc("p1", "profile", "self");
    expect(hot.doc?.data).toEqual(FULL);
  });

  it("PATCH changes only the given fields and null removes one", async () => {
    await t.api("PUT", "/v1/users/p2/profile", FULL);
    const p = await t.api("PATCH", "/v1/users/p2/profile", { name: "Ana L.", gender: null });
    expect(p.status).toBe(200);
    expect(p.body.version).toBe(2);
    expect(p.body.name).toBe("Ana L.");
    expect(p.body).not.toHaveProperty("gender");
    expect(p.body.email).toBe(FULL.email);
    expect((await t.system.deps.store.get("p2", "profile"))?.data).not.toHaveProperty("gender");
  });

  it("PATCH on a user without a profile creates it", async () => {
    const p = await t.api("PATCH", "/v1/users/p3/profile", { timezone: "Asia/Tokyo" });
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ timezone: "Asia/Tokyo", version: 1 });
  });

  it("PUT replaces: fields it leaves out are removed", async () => {
    await t.api("PUT", "/v1/users/p4/profile", FULL);
    const put = await t.api("PUT", "/v1/users/p4/profile", { name: "Bo" });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ name: "Bo", version: 2 });
    for (const k of ["email", "phone", "timezone", "locale", "gender", "date_of_birth"])
      expect(put.body).not.toHaveProperty(k);
  });

  it("?wait=false answers 202 with a job that completes, then the write is readable", async () => {
    const r = await t.api("PUT", "/v1/users/p6/profile?wait=false", { name: "Queued" });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ status: "queued", job_id: expect.any(String) });
    expect(r.body.status_url).toBe(`/v1/jobs/${r.body.job_id}`);
    const job = await until("job completed", async () => {
      const j = await t.api("GET", r.body.status_url);
      return j.body.state === "completed" ? j : undefined;
    });
    expect(job.body).toMatchObject({ job_id: r.body.job_id, failed_reason: null });
    expect(job.body.result).toMatchObject({ element: "profile", applied: true, version: 1 });
    expect((await t.api("GET", "/v1/users/p6/profile")).body.name).toBe("Queued");
  });

  describe("bad input is refused with 400 and nothing is enqueued or written", () => {
    const U = "p-bad";
    const cases: [string, unknown, string, string][] = [
      ["wrong type", { name: 5 }, "body.name", "invalid_type"],
      ["unknown field", { nickname: "A" }, "body.nickname", "unknown_field"],
      ["bad time zone", { timezone: "Mars/Olympus_Mons" }, "body.timezone", "invalid_timezone"],
      ["bad email", { email: "ana-at-example" }, "body.email", "invalid_format"],
      ["bad phone", { phone: "0612345678" }, "body.phone", "invalid_format"],
      ["bad date format", { date_of_birth: "12/04/1990" }, "body.date_of_birth", "invalid_format"],
      ["impossible date", { date_of_birth: "1990-02-30" }, "body.date_of_birth", "invalid_date"],
      ["date of birth in the future", { date_of_birth: "2999-01-01" }, "body.date_of_birth", "in_future"],
      ["bad locale", { locale: "not a locale" }, "body.locale", "invalid_locale"],
      ["oversized string", { name: bigString(101) }, "body.name", "too_big"],
      ["empty string", { name: "  " }, "body.name", "too_small"],
      ["array body", [FULL], "body", "invalid_type"],
    ];
    for (const [what, body, field, rule] of cases) {
      it(`PUT: ${what}`, async () => {
        const r = await refusedWithoutWrite(t, U, () => t.api("PUT", `/v1/users/${U}/profile`, body));
        expectInvalid(r, field, rule);
        expect(r.body.error.code).toBe("validation_failed");
      });
      if (!Array.isArray(body)) {
        it(`PATCH: ${what}`, async () => {
          const r = await refusedWithoutWrite(t, U, () => t.api("PATCH", `/v1/users/${U}/profile`, body));
          expectInvalid(r, field, rule);
        });
      }
    }

    it("the future-birth-date message says so", async () => {
      const r = await t.api("PUT", `/v1/users/${U}/profile`, { date_of_birth: "2999-01-01" });
      expect(r.body.error.details[0].message).toMatch(/future/);
    });

    it("malformed JSON", async () => {
      for (const method of ["PUT", "PATCH"]) {
        const r = await refusedWithoutWrite(t, U, () =>
          t.api(method, `/v1/users/${U}/profile`, undefined, { raw: '{"name": "Ana",' }),
        );
        expect(r.status).toBe(400);
        expect(r.body.error.code).toBe("invalid_json");
        expectInvalid(r, "(body)", "json");
        expect(JSON.stringify(r.body)).not.toMatch(/SyntaxError|\.(ts|js):\d+/);
      }
    });

    it("empty body (an empty PUT must not wipe the profile)", async () => {
      for (const method of ["PUT", "PATCH"]) {
        const r = await refusedWithoutWrite(t, U, () => t.api(method, `/v1/users/${U}/profile`));
        expect(r.body.error.code).toBe("invalid_json");
        expectInvalid(r, "(body)", "json");
      }
    });

    it("empty PATCH", async () => {
      const r = await refusedWithoutWrite(t, U, () => t.api("PATCH", `/v1/users/${U}/profile`, {}));
      expectInvalid(r, "body", "empty_patch");
    });

    it("oversized body is 413", async () => {
      const r = await refusedWithoutWrite(t, U, () =>
        t.api("PUT", `/v1/users/${U}/profile`, { name: "A", gender: bigString(70 * 1024) }),
      );
      expect(r.status).toBe(413);
      expect(r.body.error.code).toBe("payload_too_large");
    });

    it("bad user id in the path", async () => {
      for (const bad of ["has%20space", "a.b", "x".repeat(65)]) {
        const r = await t.api("PUT", `/v1/users/${bad}/profile`, { name: "A" });
        expectInvalid(r, "path.user_id");
      }
      expectInvalid(await t.api("GET", "/v1/users/a.b/profile"), "path.user_id");
    });

    it("bad ?wait= value", async () => {
      const r = await refusedWithoutWrite(t, U, () =>
        t.api("PUT", `/v1/users/${U}/profile?wait=maybe`, { name: "A" }),
      );
      expectInvalid(r, "query.wait", "invalid_value");
    });

    it("bad Idempotency-Key header", async () => {
      const r = await refusedWithoutWrite(t, U, () =>
        t.api(
          "PUT",
          `/v1/users/${U}/profile`,
          { name: "A" },
          { headers: { "idempotency-key": "k".repeat(200) } },
        ),
      );
      expectInvalid(r, "header.idempotency-key");
    });

    it("a PATCH whose result would be invalid is refused too", async () => {
      // Nothing to break with optional-only fields, but the patch itself must be valid.
      const r = await refusedWithoutWrite(t, U, () =>
        t.api("PATCH", `/v1/users/${U}/profile`, { name: null, email: "nope" }),
      );
      expectInvalid(r, "body.email", "invalid_format");
    });

    it("the user has nothing stored after all of that", async () => {
      expect((await t.api("GET", `/v1/users/${U}/profile`)).status).toBe(404);
      expect(await t.system.deps.store.countUserItems(U)).toBe(0);
    });
  });
});
