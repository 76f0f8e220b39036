import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bigString, expectInvalid, refusedWithoutWrite, startMemorySystem } from "../support/memory.js";
import type { TestSystem } from "../support/system.js";

const FIXED = new Date("2026-03-10T12:00:00.000Z");

describe("events", () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startMemorySystem({ now: () => FIXED });
  });
  afterAll(async () => t?.stop());

  const create = async (user: string, body: Record<string, unknown>) => {
    const r = await t.api("POST", `/v1/users/${user}/events`, body);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body;
  };
  const summaries = (r: { body: any }) => r.body.items.map((x: any) => x.summary);

  it("POST (manual addition) stores every field plus source, calendar and last_modified", async () => {
    const body = {
      summary: "Dinner with Rui",
      description: "Birthday",
      start: "2026-03-12T19:00:00+01:00",
      end: "2026-03-12T22:00:00+01:00",
      location: "Lisbon",
      attendees: ["rui@example.com"],
      recurrence: ["RRULE:FREQ=YEARLY"],
    };
    const e = await create("e1", body);
    expect(e).toMatchObject({
      ...body,
      event_id: expect.any(String),
      calendar_id: "manual",
      source: "manual",
      last_modified: FIXED.toISOString(),
      version: 1,
    });
    const one = await t.api("GET", `/v1/users/e1/events/${e.event_id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(e);
    expect((await t.system.deps.store.get("e1", "event", e.event_id))?.data).toMatchObject(body);
  });

  it("GET list is ordered by start and ?from=&to= select by start (inclusive)", async () => {
    const u = "e2";
    await create(u, { summary: "c", start: "2026-03-20" });
    await create(u, { summary: "a", start: "2026-03-11T08:00:00Z", end: "2026-03-11T09:00:00Z" });
    await create(u, { summary: "b", start: "2026-03-15T10:00:00-05:00" });
    await create(u, { summary: "d", start: "2026-04-01T00:00:00Z" });

    expect(summaries(await t.api("GET", `/v1/users/${u}/events`))).toEqual(["a", "b", "c", "d"]);
    expect(summaries(await t.api("GET", `/v1/users/${u}/events?from=2026-03-12&to=2026-03-20`))).toEqual([
      "b",
      "c",
    ]);
    expect(summaries(await t.api("GET", `/v1/users/${u}/events?from=2026-03-15T15:00:00Z`))).toEqual([
      "b",
      "c",
      "d",
    ]);
    expect(summaries(await t.api("GET", `/v1/users/${u}/events?to=2026-03-11T08:00:00Z`))).toEqual(["a"]);
    expect(summaries(await t.api("GET", `/v1/users/${u}/events?from=2027-01-01`))).toEqual([]);
  });

  it("PATCH moves an event (re-sorted) and null removes end", async () => {
    const u = "e3";
    const a = await create(u, { summary: "a", start: "2026-03-11T08:00:00Z", end: "2026-03-11T09:00:00Z" });
    const b = await create(u, { summary: "b", start: "2026-03-12T08:00:00Z" });
    const p = await t.api("PATCH", `/v1/users/${u}/events/${a.event_id}`, {
      start: "2026-03-13T08:00:00Z",
      end: null,
      location: "Home",
    });
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({
      summary: "a",
      start: "2026-03-13T08:00:00Z",
      location: "Home",
      version: 2,
    });
    expect(p.body).not.toHaveProperty("end");
    const list = await t.api("GET", `/v1/users/${u}/events`);
    expect(list.body.items.map((x: any) => x.event_id)).toEqual([b.event_id, a.event_id]);
  });

  it("DELETE removes the event from both tiers", async () => {
    const u = "e4";
    const a = await create(u, { summary: "x", start: "2026-03-11" });
    expect((await t.api("DELETE", `/v1/users/${u}/events/${a.event_id}`)).status).toBe(204);
    expect((await t.api("GET", `/v1/users/${u}/events/${a.event_id}`)).status).toBe(404);
    expect((await t.api("GET", `/v1/users/${u}/events`)).body.items).toEqual([]);
    expect(await t.system.deps.store.get(u, "event", a.event_id)).toBeUndefined();
  });

  describe("bad input is refused with 400 and nothing is enqueued or written", () => {
    const U = "e-bad";
    let eventId: string;
    beforeAll(async () => {
      eventId = (
        await create(U, { summary: "existing", start: "2026-03-11T10:00:00Z", end: "2026-03-11T11:00:00Z" })
      ).event_id;
    });

    const createCases: [string, unknown, string, string][] = [
      ["missing summary", { start: "2026-03-11" }, "body.summary", "invalid_type"],
      ["missing start", { summary: "a" }, "body.start", "invalid_union"],
      ["bad start", { summary: "a", start: "next tuesday" }, "body.start", "invalid_union"],
      [
        "start without timezone",
        { summary: "a", start: "2026-03-11T10:00:00" },
        "body.start",
        "invalid_union",
      ],
      [
        "end before start",
        { summary: "a", start: "2026-03-11T10:00:00Z", end: "2026-03-11T09:59:59Z" },
        "body.end",
        "end_before_start",
      ],
      [
        "end a day before start",
        { summary: "a", start: "2026-03-11", end: "2026-03-10" },
        "body.end",
        "end_before_start",
      ],
      [
        "too many attendees",
        { summary: "a", start: "2026-03-11", attendees: Array.from({ length: 101 }, (_, i) => `p${i}`) },
        "body.attendees",
        "too_big",
      ],
      [
        "oversized recurrence rule",
        { summary: "a", start: "2026-03-11", recurrence: [bigString(501)] },
        "body.recurrence.0",
        "too_big",
      ],
      ["oversized summary", { summary: bigString(501), start: "2026-03-11" }, "body.summary", "too_big"],
      [
        "server-managed field",
        { summary: "a", start: "2026-03-11", source: "google" },
        "body.source",
        "unknown_field",
      ],
      [
        "last_modified from the client",
        { summary: "a", start: "2026-03-11", last_modified: "2026-03-11T00:00:00Z" },
        "body.last_modified",
        "unknown_field",
      ],
    ];
    for (const [what, body, field, rule] of createCases) {
      it(`POST: ${what}`, async () => {
        const r = await refusedWithoutWrite(t, U, () => t.api("POST", `/v1/users/${U}/events`, body));
        expectInvalid(r, field, rule);
        if (rule === "end_before_start")
          expect(r.body.error.details[0].message).toBe("must not be before start");
      });
    }

    const patchCases: [string, unknown, string, string][] = [
      ["start moved after the stored end", { start: "2026-03-11T12:00:00Z" }, "body.end", "end_before_start"],
      ["end moved before the stored start", { end: "2026-03-11T09:00:00Z" }, "body.end", "end_before_start"],
      [
        "both moved, end before start",
        { start: "2026-03-14T10:00:00Z", end: "2026-03-13" },
        "body.end",
        "end_before_start",
      ],
      ["required start removed", { start: null }, "body.start", "invalid_union"],
      ["required summary removed", { summary: null }, "body.summary", "invalid_type"],
      ["unknown field", { color: "red" }, "body.color", "unknown_field"],
      ["empty patch", {}, "body", "empty_patch"],
    ];
    for (const [what, body, field, rule] of patchCases) {
      it(`PATCH: ${what}`, async () => {
        const r = await refusedWithoutWrite(t, U, () =>
          t.api("PATCH", `/v1/users/${U}/events/${eventId}`, body),
        );
        expectInvalid(r, field, rule);
        if (rule === "end_before_start")
          expect(r.body.error.details[0].message).toBe("must not be before start");
      });
    }

    it("malformed JSON and oversized bodies", async () => {
      for (const [method, path] of [
        ["POST", `/v1/users/${U}/events`],
        ["PATCH", `/v1/users/${U}/events/${eventId}`],
      ] as const) {
        const bad = await refusedWithoutWrite(t, U, () => t.api(method, path, undefined, { raw: "{,}" }));
        expect(bad.body.error.code).toBe("invalid_json");
        const big = await refusedWithoutWrite(t, U, () =>
          t.api(method, path, { summary: "a", start: "2026-03-11", description: bigString(65 * 1024) }),
        );
        expect(big.status).toBe(413);
      }
    });

    it("bad ids in paths and bad query parameters", async () => {
      for (const method of ["GET", "PATCH", "DELETE"]) {
        const r = await refusedWithoutWrite(t, U, () =>
          t.api(
            method,
            `/v1/users/${U}/events/${"e".repeat(65)}`,
            method === "PATCH" ? { summary: "x" } : undefined,
          ),
        );
        expectInvalid(r, "path.event_id", "invalid_format");
      }
      expectInvalid(await t.api("GET", `/v1/users/${U}/events?from=yesterday`), "query.from");
      expectInvalid(await t.api("GET", `/v1/users/${U}/events?to=2026-13-01`), "query.to");
      expectInvalid(
        await t.api("GET", `/v1/users/${U}/events?from=2026-03-12&to=2026-03-11`),
        "query.to",
        "to_before_from",
      );
    });

    it("unknown event: 404 and nothing enqueued", async () => {
      for (const [method, body] of [
        ["GET", undefined],
        ["PATCH", { summary: "x" }],
        ["DELETE", undefined],
      ] as const) {
        const r = await refusedWithoutWrite(t, U, () => t.api(method, `/v1/users/${U}/events/missing`, body));
        expect(r.status).toBe(404);
      }
      const got = await t.api("GET", `/v1/users/${U}/events/${eventId}`);
      expect(got.body).toMatchObject({ summary: "existing", end: "2026-03-11T11:00:00Z", version: 1 });
    });
  });
});
