import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bigString, expectInvalid, refusedWithoutWrite, startMemorySystem } from "../support/memory.js";
import type { TestSystem } from "../support/system.js";

const FIXED = new Date("2026-03-10T12:00:00.000Z");

describe("feedback", () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startMemorySystem({ now: () => FIXED });
  });
  afterAll(async () => t?.stop());

  const post = async (user: string, body: Record<string, unknown>) => {
    const r = await t.api("POST", `/v1/users/${user}/feedback`, body);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body;
  };

  it("POST records an episodic entry; timestamp defaults to now", async () => {
    const f = await post("f1", { interaction_id: "turn-1", rating: 5, tags: ["warm"], comments: "lovely" });
    expect(f).toEqual({
      feedback_id: expect.any(String),
      interaction_id: "turn-1",
      rating: 5,
      tags: ["warm"],
      comments: "lovely",
      timestamp: FIXED.toISOString(),
    });
    const page = await t.api("GET", "/v1/users/f1/feedback");
    expect(page.status).toBe(200);
    expect(page.body).toEqual({ items: [f], next_cursor: null });
  });

  it("GET pages newest first with a cursor, every entry exactly once", async () => {
    const u = "f2";
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const f = await post(u, {
        interaction_id: `turn-${i}`,
        rating: 3,
        timestamp: `2026-03-0${i}T10:00:00Z`,
      });
      ids.push(f.feedback_id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const r = await t.api("GET", `/v1/users/${u}/feedback${q}`);
      expect(r.status).toBe(200);
      expect(r.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.items.map((x: any) => x.feedback_id));
      cursor = r.body.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
    const all = await t.api("GET", `/v1/users/${u}/feedback?limit=100`);
    expect(all.body.items.map((x: any) => x.interaction_id)).toEqual([
      "turn-5",
      "turn-4",
      "turn-3",
      "turn-2",
      "turn-1",
    ]);
    expect(all.body.next_cursor).toBeNull();
  });

  it("GET summary: 404 before any feedback, then positives, negatives and suggestions", async () => {
    const u = "f3";
    expect((await t.api("GET", `/v1/users/${u}/feedback/summary`)).status).toBe(404);
    await post(u, { interaction_id: "a", rating: 5, comments: "Loved the concise answer" });
    await post(u, { interaction_id: "b", rating: 1, comments: "Too preachy" });
    await post(u, { interaction_id: "c", rating: 3, comments: "Use bullet points", tags: ["suggestion"] });
    await post(u, { interaction_id: "d", rating: 3, comments: "meh" });
    const s = await t.api("GET", `/v1/users/${u}/feedback/summary`);
    expect(s.status).toBe(200);
    expect(s.body).toEqual({
      positives: ["Loved the concise answer"],
      negatives: ["Too preachy"],
      suggestions: ["Use bullet points"],
      version: 4,
      last_updated: FIXED.toISOString(),
    });
  });

  describe("bad input is refused with 400 and nothing is enqueued or written", () => {
    const U = "f-bad";
    const cases: [string, unknown, string, string][] = [
      ["missing interaction id", { rating: 4 }, "body.interaction_id", "invalid_type"],
      ["missing rating", { interaction_id: "x" }, "body.rating", "invalid_type"],
      ["rating below 1", { interaction_id: "x", rating: 0 }, "body.rating", "too_small"],
      ["rating above 5", { interaction_id: "x", rating: 6 }, "body.rating", "too_big"],
      ["fractional rating", { interaction_id: "x", rating: 4.5 }, "body.rating", "invalid_type"],
      ["rating as string", { interaction_id: "x", rating: "5" }, "body.rating", "invalid_type"],
      [
        "too many tags",
        { interaction_id: "x", rating: 4, tags: Array.from({ length: 21 }, (_, i) => `t${i}`) },
        "body.tags",
        "too_big",
      ],
      [
        "oversized comments",
        { interaction_id: "x", rating: 4, comments: bigString(4001) },
        "body.comments",
        "too_big",
      ],
      [
        "bad timestamp",
        { interaction_id: "x", rating: 4, timestamp: "2026-03-10" },
        "body.timestamp",
        "invalid_format",
      ],
      [
        "server-assigned id",
        { interaction_id: "x", rating: 4, feedback_id: "f" },
        "body.feedback_id",
        "unknown_field",
      ],
    ];
    for (const [what, body, field, rule] of cases) {
      it(`POST: ${what}`, async () => {
        const r = await refusedWithoutWrite(t, U, () => t.api("POST", `/v1/users/${U}/feedback`, body));
        expectInvalid(r, field, rule);
      });
    }

    it("malformed JSON and an oversized body", async () => {
      const bad = await refusedWithoutWrite(t, U, () =>
        t.api("POST", `/v1/users/${U}/feedback`, undefined, { raw: '{"rating": 5' }),
      );
      expect(bad.body.error.code).toBe("invalid_json");
      const big = await refusedWithoutWrite(t, U, () =>
        t.api("POST", `/v1/users/${U}/feedback`, {
          interaction_id: "x",
          rating: 4,
          comments: bigString(70_000),
        }),
      );
      expect(big.status).toBe(413);
    });

    it("bad query parameters", async () => {
      expectInvalid(await t.api("GET", `/v1/users/${U}/feedback?limit=0`), "query.limit", "too_small");
      expectInvalid(await t.api("GET", `/v1/users/${U}/feedback?limit=101`), "query.limit", "too_big");
      expectInvalid(await t.api("GET", `/v1/users/${U}/feedback?limit=ten`), "query.limit", "invalid_type");
      expectInvalid(await t.api("GET", `/v1/users/${U}/feedback?cursor=not%20a%20cursor`), "query.cursor");
      // Well-formed characters but not a cursor this API handed out.
      expectInvalid(
        await t.api("GET", `/v1/users/${U}/feedback?cursor=abcdef`),
        "query.cursor",
        "invalid_cursor",
      );
    });

    it("nothing was stored for the user", async () => {
      expect((await t.api("GET", `/v1/users/${U}/feedback`)).body).toEqual({ items: [], next_cursor: null });
      expect((await t.api("GET", `/v1/users/${U}/feedback/summary`)).status).toBe(404);
      expect(await t.system.deps.store.countUserItems(U)).toBe(0);
    });
  });
});
