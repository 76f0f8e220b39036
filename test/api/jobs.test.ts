import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PERSIST_QUEUE } from "../../queues/persist.js";
import { expectInvalid, startMemorySystem } from "../support/memory.js";
import { until } from "../support/ops.js";
import type { TestSystem } from "../support/system.js";

describe("?wait=false writes and GET /v1/jobs/:job_id", () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startMemorySystem();
  });
  afterAll(async () => t?.stop());

  const queued = async (method: string, path: string, body?: unknown) => {
    const sep = path.includes("?") ? "&" : "?";
    const r = await t.api(method, `${path}${sep}wait=false`, body);
    expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBe(202);
    expect(r.body).toEqual({
      job_id: expect.any(String),
      status: "queued",
      status_url: `/v1/jobs/${encodeURIComponent(r.body.job_id)}`,
    });
    return r.body.job_id as string;
  };
  const finished = (jobId: string) =>
    until(`job ${jobId} completed`, async () => {
      const j = await t.api("GET", `/v1/jobs/${jobId}`);
      expect(j.status).toBe(200);
      return j.body.state === "completed" ? j.body : undefined;
    });

  it("every write route answers 202 with a job that completes and whose result is readable", async () => {
    const u = "j1";
    const single = async (seg: string, put: unknown, patch: unknown) => {
      let job = await finished(await queued("PUT", `/v1/users/${u}/${seg}`, put));
      expect(job.result).toMatchObject({ element: seg, id: "self", applied: true, version: 1 });
      job = await finished(await queued("PATCH", `/v1/users/${u}/${seg}`, patch));
      expect(job.result).toMatchObject({ applied: true, version: 2 });
      return (await t.api("GET", `/v1/users/${u}/${seg}`)).body;
    };
    expect(await single("profile", { name: "A" }, { gender: "f" })).toMatchObject({ name: "A", gender: "f" });
    expect(await single("preferences", { occupation: "x" }, { languages: ["en"] })).toMatchObject({
      occupation: "x",
      languages: ["en"],
    });
    expect(await single("state", { mood: "ok" }, { skills: ["y"] })).toMatchObject({
      mood: "ok",
      skills: ["y"],
    });

    for (const [seg, el, create, patch] of [
      ["goals", "goal", { title: "g" }, { priority: 1 }],
      ["todos", "todo", { text: "t" }, { status: "done" }],
      ["events", "event", { summary: "e", start: "2026-05-01" }, { location: "Porto" }],
    ] as const) {
      const created = await finished(await queued("POST", `/v1/users/${u}/${seg}`, create));
      expect(created.result).toMatchObject({ element: el, applied: true, version: 1 });
      const id = created.result.id as string;
      expect((await t.api("GET", `/v1/users/${u}/${seg}/${id}`)).body).toMatchObject(create);
      const patched = await finished(await queued("PATCH", `/v1/users/${u}/${seg}/${id}`, patch));
      expect(patched.result).toMatchObject({ id, version: 2 });
      expect((await t.api("GET", `/v1/users/${u}/${seg}/${id}`)).body).toMatchObject(patch);
      if (seg === "goals") {
        const p = await finished(await queued("POST", `/v1/users/${u}/goals/${id}/progress`, { note: "n" }));
        expect(p.result).toMatchObject({ id, version: 3 });
        expect((await t.api("GET", `/v1/users/${u}/goals/${id}`)).body.progress).toHaveLength(1);
      }
      const deleted = await finished(await queued("DELETE", `/v1/users/${u}/${seg}/${id}`));
      expect(deleted.result).toMatchObject({ id, version: null, applied: true });
      expect((await t.api("GET", `/v1/users/${u}/${seg}/${id}`)).status).toBe(404);
    }

    const fb = await finished(
      await queued("POST", `/v1/users/${u}/feedback`, { interaction_id: "i", rating: 2 }),
    );
    expect(fb.result).toMatchObject({ element: "feedback", applied: true });
    expect((await t.api("GET", `/v1/users/${u}/feedback`)).body.items).toHaveLength(1);
  });

  it("the job answer has its state, attempts and result", async () => {
    const id = await queued("PUT", "/v1/users/j2/profile", { name: "B" });
    const job = await finished(id);
    expect(job).toEqual({
      job_id: id,
      state: "completed",
      attempts_made: expect.any(Number),
      failed_reason: null,
      result: { element: "profile", id: "self", version: 1, applied: true },
    });
  });

  it("a job with a bad payload fails at once and keeps its reason", async () => {
    // Bypasses the ingress on purpose: the worker re-checks the envelope.
    const job = await t.system.deps.persist.queue.add(PERSIST_QUEUE, {
      op: "explode",
      user_id: "j3",
    } as never);
    const failed = await until("job failed", async () => {
      const j = await t.api("GET", `/v1/jobs/${job.id}`);
      return j.body.state === "failed" ? j.body : undefined;
    });
    expect(failed.failed_reason).toMatch(/invalid persist payload/);
    expect(failed.attempts_made).toBe(1);
  });

  it("unknown job is 404, malformed job id is 400", async () => {
    const r = await t.api("GET", "/v1/jobs/00000000-0000-0000-0000-000000000000");
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("not_found");
    expectInvalid(await t.api("GET", "/v1/jobs/has.dot"), "path.job_id", "invalid_format");
    expectInvalid(await t.api("GET", `/v1/jobs/${"j".repeat(81)}`), "path.job_id", "invalid_format");
  });
});
