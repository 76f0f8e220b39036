import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/ops/log.js";
import { until } from "./support/ops.js";
import { startTestSystem, TEST_KEY, type TestSystem } from "./support/system.js";

const USER = "log-user-5b9e21";
const SECRETS = {
  name: "Zephyrine Oakhollow",
  email: "zephyrine.oakhollow@example.org",
  phone: "+14155550123",
  date_of_birth: "1987-03-14",
  mood: "quietly-anxious-about-the-move",
  comments: "the-answer-about-my-sister-was-wrong",
  wrongKey: "sk-live-never-log-me-2f7c9a",
  jwtLike: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
};

describe("structured logs", () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
  let t: TestSystem;
  beforeAll(async () => {
    t = await startTestSystem({ log: createLogger("debug", sink) });
  });
  afterAll(async () => t?.stop());

  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  it("follows a write into its job by request id and never logs personal data or keys", async () => {
    const rid = "rid-log-test-0001";
    const put = await t.api(
      "PUT",
      `/v1/users/${USER}/profile`,
      {
        name: SECRETS.name,
        email: SECRETS.email,
        phone: SECRETS.phone,
        date_of_birth: SECRETS.date_of_birth,
      },
      { headers: { "x-request-id": rid } },
    );
    expect(put.status).toBe(200);
    expect(put.headers.get("x-request-id")).toBe(rid);

    const queued = await t.api(
      "PATCH",
      `/v1/users/${USER}/state?wait=false`,
      { mood: SECRETS.mood },
      { headers: { "x-request-id": "rid-log-test-0002" } },
    );
    expect(queued.status).toBe(202);
    expect(
      (
        await t.api("POST", `/v1/users/${USER}/feedback`, {
          interaction_id: "i-1",
          rating: 2,
          comments: SECRETS.comments,
        })
      ).status,
    ).toBe(201);
    // Refused requests: a wrong key, a JWT-looking token, an invalid email echoed by nobody.
    expect(
      (await t.api("GET", `/v1/users/${USER}/profile`, undefined, { token: SECRETS.wrongKey })).status,
    ).toBe(401);
    expect(
      (await t.api("GET", `/v1/users/${USER}/profile`, undefined, { token: SECRETS.jwtLike })).status,
    ).toBe(401);
    const bad = await t.api("PATCH", `/v1/users/${USER}/profile`, { email: `x${SECRETS.email}x@` });
    expect(bad.status).toBe(400);
    const badJson = await t.api("PUT", `/v1/users/${USER}/profile`, undefined, {
      raw: `{"email":"${SECRETS.email}"`,
    });
    expect(badJson.status).toBe(400);

    await until("the queued job's log line", () =>
      parsed().some((l) => l.msg === "job completed" && l.request_id === "rid-log-test-0002"),
    );
    const logs = parsed();

    // Every line is structured JSON with a level and a message.
    for (const l of logs) {
      expect(l.level).toEqual(expect.any(Number));
      expect(l.msg).toEqual(expect.any(String));
    }
    // The request line and the job line of the same write share its request id.
    const req = logs.find((l) => l.msg === "request" && l.request_id === rid);
    expect(req).toMatchObject({ method: "PUT", route: "/v1/users/:user_id/profile", status: 200 });
    const job = logs.find((l) => l.msg === "job completed" && l.request_id === rid);
    expect(job).toMatchObject({ queue: "persist", job_id: expect.any(String) });
    expect(logs.find((l) => l.msg === "request" && l.request_id === "rid-log-test-0002")).toMatchObject({
      status: 202,
    });

    const all = lines.join("\n");
    for (const [what, value] of Object.entries({ ...SECRETS, key: TEST_KEY, user: USER })) {
      expect(all.includes(value), `${what} appears in the logs`).toBe(false);
    }
  });

  it("logs a failed job with its request id and reason", async () => {
    const persist = t.system.ops.queues.byName.get("persist");
    await persist?.add("persist", { op: "bogus", request_id: "rid-log-test-0003", email: SECRETS.email });
    const failed = await until("the failed job line", () =>
      parsed().find((l) => l.msg === "job failed" && l.request_id === "rid-log-test-0003"),
    );
    expect(failed).toMatchObject({
      queue: "persist",
      reason: expect.stringMatching(/invalid persist payload/),
    });
    expect(lines.join("\n")).not.toContain(SECRETS.email);
  });
});
