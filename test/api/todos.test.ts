import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bigString, expectInvalid, refusedWithoutWrite, startMemorySystem } from "../support/memory.js";
import type { TestSystem } from "../support/system.js";

describe("to-dos", () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startMemorySystem();
  });
  afterAll(async () => t?.stop());

  const create = async (user: string, body: Record<string, unknown>) => {
    const r = await t.api("POST", `/v1/users/${user}/todos`, body);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body;
  };
  const texts = (r: { body: any }) => r.body.items.map((x: any) => x.text);

  it("POST assigns an id and defaults; GET one returns every field", async () => {
    const body = {
      text: "Book dentist",
      due_date: "2026-04-02",
      category: "health",
      ticket_size: "s",
      priority: 2,
      parent_goal: "goal-1",
      tags: ["phone", "errand"],
      notes: ["ask about whitening"],
    };
    const td = await create("t1", body);
    expect(td).toMatchObject({ ...body, todo_id: expect.any(String), status: "pending", version: 1 });
    const one = await t.api("GET", `/v1/users/t1/todos/${td.todo_id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(td);
    expect((await t.system.deps.store.get("t1", "todo", td.todo_id))?.data).toMatchObject(body);
  });

  it("GET list: by due date (undated last), ?status= and ?due_before= (exclusive)", async () => {
    const u = "t2";
    await create(u, { text: "no date" });
    await create(u, { text: "may", due_date: "2026-05-01" });
    await create(u, { text: "april noon", due_date: "2026-04-01T12:00:00Z" });
    await create(u, { text: "march", due_date: "2026-03-01", status: "done" });
    await create(u, { text: "april", due_date: "2026-04-01", status: "in_progress" });

    expect(texts(await t.api("GET", `/v1/users/${u}/todos`))).toEqual([
      "march",
      "april",
      "april noon",
      "may",
      "no date",
    ]);
    expect(texts(await t.api("GET", `/v1/users/${u}/todos?status=pending`))).toEqual([
      "april noon",
      "may",
      "no date",
    ]);
    expect(texts(await t.api("GET", `/v1/users/${u}/todos?status=done`))).toEqual(["march"]);
    expect(texts(await t.api("GET", `/v1/users/${u}/todos?due_before=2026-05-01`))).toEqual([
      "march",
      "april",
      "april noon",
    ]);
    expect(texts(await t.api("GET", `/v1/users/${u}/todos?due_before=2026-04-01T12:00:00Z`))).toEqual([
      "march",
      "april",
    ]);
    expect(
      texts(await t.api("GET", `/v1/users/${u}/todos?due_before=2026-05-02&status=in_progress`)),
    ).toEqual(["april"]);
    expect(texts(await t.api("GET", `/v1/users/${u}/todos?status=cancelled`))).toEqual([]);
  });

  it("PATCH changes status, re-sorts on due date, null removes a field", async () => {
    const u = "t3";
    const a = await create(u, { text: "a", due_date: "2026-04-01", tags: ["x"] });
    const b = await create(u, { text: "b", due_date: "2026-05-01" });
    const p = await t.api("PATCH", `/v1/users/${u}/todos/${a.todo_id}`, {
      due_date: "2026-06-01",
      status: "done",
      tags: null,
    });
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ text: "a", due_date: "2026-06-01", status: "done", version: 2 });
    expect(p.body).not.toHaveProperty("tags");
    const list = await t.api("GET", `/v1/users/${u}/todos`);
    expect(list.body.items.map((x: any) => x.todo_id)).toEqual([b.todo_id, a.todo_id]);
  });

  it("DELETE removes the to-do from both tiers", async () => {
    const u = "t4";
    const a = await create(u, { text: "remove me", due_date: "2026-04-01" });
    expect((await t.api("DELETE", `/v1/users/${u}/todos/${a.todo_id}`)).status).toBe(204);
    expect((await t.api("GET", `/v1/users/${u}/todos/${a.todo_id}`)).status).toBe(404);
    expect((await t.api("GET", `/v1/users/${u}/todos`)).body.items).toEqual([]);
    expect(await t.system.deps.store.get(u, "todo", a.todo_id)).toBeUndefined();
    expect(await t.system.redis.exists(t.system.deps.hot.docKey(u, "todo", a.todo_id))).toBe(0);
  });

  describe("bad input is refused with 400 and nothing is enqueued or written", () => {
    const U = "t-bad";
    let todoId: string;
    beforeAll(async () => {
      todoId = (await create(U, { text: "existing", due_date: "2026-04-01" })).todo_id;
    });

    const createCases: [string, unknown, string, string][] = [
      ["missing text", { due_date: "2026-04-01" }, "body.text", "invalid_type"],
      ["oversized text", { text: bigString(1001) }, "body.text", "too_big"],
      ["unknown ticket size", { text: "a", ticket_size: "huge" }, "body.ticket_size", "invalid_value"],
      ["unknown status", { text: "a", status: "blocked" }, "body.status", "invalid_value"],
      ["bad due date", { text: "a", due_date: "tomorrow" }, "body.due_date", "invalid_union"],
      ["priority zero", { text: "a", priority: 0 }, "body.priority", "too_small"],
      ["bad parent goal id", { text: "a", parent_goal: "has space" }, "body.parent_goal", "invalid_format"],
      [
        "too many tags",
        { text: "a", tags: Array.from({ length: 21 }, (_, i) => `t${i}`) },
        "body.tags",
        "too_big",
      ],
      ["tag of the wrong type", { text: "a", tags: [1] }, "body.tags.0", "invalid_type"],
      ["oversized note", { text: "a", notes: [bigString(1001)] }, "body.notes.0", "too_big"],
      ["server-assigned id", { text: "a", todo_id: "x" }, "body.todo_id", "unknown_field"],
    ];
    for (const [what, body, field, rule] of createCases) {
      it(`POST: ${what}`, async () => {
        const r = await refusedWithoutWrite(t, U, () => t.api("POST", `/v1/users/${U}/todos`, body));
        expectInvalid(r, field, rule);
      });
    }

    const patchCases: [string, unknown, string, string][] = [
      ["required text removed", { text: null }, "body.text", "invalid_type"],
      ["unknown status", { status: "archived" }, "body.status", "invalid_value"],
      ["bad due date", { due_date: "2026-02-31" }, "body.due_date", "invalid_union"],
      ["unknown field", { assignee: "bob" }, "body.assignee", "unknown_field"],
      ["empty patch", {}, "body", "empty_patch"],
    ];
    for (const [what, body, field, rule] of patchCases) {
      it(`PATCH: ${what}`, async () => {
        const r = await refusedWithoutWrite(t, U, () =>
          t.api("PATCH", `/v1/users/${U}/todos/${todoId}`, body),
        );
        expectInvalid(r, field, rule);
      });
    }

    it("malformed JSON and oversized bodies", async () => {
      for (const [method, path] of [
        ["POST", `/v1/users/${U}/todos`],
        ["PATCH", `/v1/users/${U}/todos/${todoId}`],
      ] as const) {
        const bad = await refusedWithoutWrite(t, U, () => t.api(method, path, undefined, { raw: "[1,2" }));
        expect(bad.body.error.code).toBe("invalid_json");
        const big = await refusedWithoutWrite(t, U, () =>
          t.api(method, path, { text: "a", notes: Array.from({ length: 50 }, () => bigString(1400)) }),
        );
        expect(big.status).toBe(413);
        expect(big.body.error.code).toBe("payload_too_large");
      }
    });

    it("bad ids in paths and bad query parameters", async () => {
      for (const method of ["GET", "PATCH", "DELETE"]) {
        const r = await refusedWithoutWrite(t, U, () =>
          t.api(method, `/v1/users/${U}/todos/a%2Fb`, method === "PATCH" ? { text: "x" } : undefined),
        );
        expectInvalid(r, "path.todo_id", "invalid_format");
      }
      expectInvalid(await t.api("GET", `/v1/users/${U}/todos?status=open`), "query.status", "invalid_value");
      expectInvalid(await t.api("GET", `/v1/users/${U}/todos?due_before=soon`), "query.due_before");
      expectInvalid(await t.api("GET", `/v1/users/${U}/todos?due_before=2026-02-30`), "query.due_before");
    });

    it("unknown to-do: 404 and nothing enqueued", async () => {
      for (const [method, body] of [
        ["GET", undefined],
        ["PATCH", { text: "x" }],
        ["DELETE", undefined],
      ] as const) {
        const r = await refusedWithoutWrite(t, U, () => t.api(method, `/v1/users/${U}/todos/nope`, body));
        expect(r.status).toBe(404);
        expect(r.body.error.code).toBe("not_found");
      }
      const got = await t.api("GET", `/v1/users/${U}/todos/${todoId}`);
      expect(got.body).toMatchObject({ text: "existing", version: 1 });
    });
  });
});
