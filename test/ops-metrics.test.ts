import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUEUE_NAMES } from "../queues/names.js";
import { createOpsApp } from "../src/ops/http.js";
import { sample, until } from "./support/ops.js";
import { startTestSystem, type TestSystem } from "./support/system.js";

const USER = "metrics-user-7d41c2";

describe("GET /metrics", () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startTestSystem();
  });
  afterAll(async () => t?.stop());

  const scrape = async () => {
    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    return res.text();
  };

  it("reports HTTP latency per route pattern, job durations, queue depth and context assembly after traffic", async () => {
    expect((await t.api("PUT", `/v1/users/${USER}/profile`, { name: "Mira", timezone: "UTC" })).status).toBe(
      200,
    );
    expect((await t.api("GET", `/v1/users/${USER}/profile`)).status).toBe(200);
    const goal = await t.api("POST", `/v1/users/${USER}/goals`, { title: "Run 10k" });
    expect(goal.status).toBe(201);
    expect((await t.api("GET", `/v1/users/${USER}/goals/${goal.body.goal_id}`)).status).toBe(200);
    expect((await t.api("GET", `/v1/users/${USER}/context`)).status).toBe(200);
    expect((await t.api("GET", `/v1/users/${USER}/nothing-here`)).status).toBe(404);

    const text = await scrape();
    const http = "memory_http_request_duration_seconds_count";
    expect(sample(text, http, { method: "PUT", route: "/v1/users/:user_id/profile", status: "200" })).toBe(1);
    expect(
      sample(text, http, { method: "GET", route: "/v1/users/:user_id/goals/:item_id", status: "200" }),
    ).toBe(1);
    expect(sample(text, http, { method: "GET", route: "/v1/users/:user_id/*", status: "404" })).toBe(1);
    // Never a raw path: no user id or item id in any label.
    expect(text).not.toContain(USER);
    expect(text).not.toContain(goal.body.goal_id);

    expect(sample(text, "memory_context_assembly_seconds_count")).toBe(1);
    expect(
      sample(text, "memory_job_duration_seconds_count", { queue: "persist", outcome: "completed" }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      sample(text, "memory_queue_jobs", { queue: "persist", state: "completed" }),
    ).toBeGreaterThanOrEqual(2);
    for (const q of QUEUE_NAMES) {
      for (const state of ["waiting", "active", "delayed", "failed", "completed"]) {
        expect(sample(text, "memory_queue_jobs", { queue: q, state }), `${q}/${state}`).toBeTypeOf("number");
      }
    }
    expect(sample(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
  });

  it("counts failures per queue and shows them in the failed depth", async () => {
    const before = sample(await scrape(), "memory_job_failures_total", { queue: "persist" }) ?? 0;
    const persist = t.system.ops.queues.byName.get("persist");
    await persist?.add("persist", { op: "nonsense", user_id: USER });
    const text = await until("a failure in /metrics", async () => {
      const s = await scrape();
      return (sample(s, "memory_job_failures_total", { queue: "persist" }) ?? 0) > before ? s : undefined;
    });
    expect(sample(text, "memory_job_failures_total", { queue: "persist" })).toBe(before + 1);
    expect(sample(text, "memory_queue_jobs", { queue: "persist", state: "failed" })).toBeGreaterThanOrEqual(
      1,
    );
    expect(sample(text, "memory_job_duration_seconds_count", { queue: "persist", outcome: "failed" })).toBe(
      1,
    );
  });

  it("wants the bearer METRICS_TOKEN when one is configured (worker-only ops server)", async () => {
    const token = "metrics-token-0123456789abcdef";
    const app = createOpsApp({ ...t.system.ops, metricsToken: token });
    const server = await new Promise<Server>((res) => {
      const s = app.listen(0, "127.0.0.1", () => res(s));
    });
    try {
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      expect((await fetch(`${base}/metrics`)).status).toBe(401);
      expect((await fetch(`${base}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(
        401,
      );
      const ok = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain("memory_queue_jobs{");
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
