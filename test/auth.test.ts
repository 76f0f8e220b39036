import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSystem, TEST_KEY, type TestSystem } from "./support/system.js";
import { TEST_JWT_SECRET, unsignedToken, userToken } from "./support/tokens.js";

// The system's clock is fixed far from the real one: token expiry must follow the injected clock.
const NOW = new Date("2031-03-01T12:00:00Z");

describe("user tokens (JWT HS256)", () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startTestSystem({ env: { MEMORY_JWT_SECRET: TEST_JWT_SECRET }, now: () => NOW });
    expect((await t.api("PUT", "/v1/users/ana/profile", { name: "Ana" })).status).toBe(200);
  });
  afterAll(async () => t?.stop());

  const profile = (token: string | null) => t.api("GET", "/v1/users/ana/profile", undefined, { token });

  it("lets a valid token act on its own user", async () => {
    const r = await profile(await userToken("ana", { expiresAt: new Date(NOW.getTime() + 600_000) }));
    expect(r.status).toBe(200);
    expect(r.body.name).toBe("Ana");
  });

  it("judges expiry by the system clock, with 30 s of tolerance", async () => {
    const at = (s: number) => userToken("ana", { expiresAt: new Date(NOW.getTime() + s * 1000) });
    // Valid by the real clock (2031 is in the future) yet expired by the system's.
    const expired = await profile(await at(-3600));
    expect(expired.status).toBe(401);
    expect(expired.body.error).toMatchObject({ code: "unauthorized", message: "token expired" });
    expect((await profile(await at(-10))).status).toBe(200);
    expect((await profile(await at(-31))).status).toBe(401);
  });

  it("refuses alg none, other algorithms, a wrong secret, and tokens without exp or sub", async () => {
    const exp = new Date(NOW.getTime() + 600_000);
    const refused = [
      unsignedToken("ana"),
      await userToken("ana", { expiresAt: exp, alg: "HS512" }),
      await userToken("ana", { expiresAt: exp, alg: "HS384" }),
      await userToken("ana", { expiresAt: exp, secret: `${TEST_JWT_SECRET}x` }),
      await userToken("ana", { omitExp: true }),
      await userToken("", { expiresAt: exp }),
      await userToken("ana/../bob", { expiresAt: exp }),
      await userToken("ana", { expiresAt: exp, notBefore: new Date(NOW.getTime() + 300_000) }),
    ];
    for (const token of refused) {
      const r = await profile(token);
      expect(r.status, token).toBe(401);
      expect(r.headers.get("www-authenticate")).toMatch(/^Bearer /);
      expect(JSON.stringify(r.body)).not.toContain(token);
    }
    // A tampered payload keeps the header and signature but claims another user.
    const good = (await userToken("ana", { expiresAt: exp })).split(".");
    const claims = Buffer.from(JSON.stringify({ sub: "bob", exp: exp.getTime() / 1000 })).toString(
      "base64url",
    );
    expect((await profile(`${good[0]}.${claims}.${good[2]}`)).status).toBe(401);
  });

  it("gives 403 on another user's data, including that user's queued jobs", async () => {
    const exp = new Date(NOW.getTime() + 600_000);
    const ana = await userToken("ana", { expiresAt: exp });
    const bob = await userToken("bob", { expiresAt: exp });
    expect((await profile(bob)).status).toBe(403);
    const w = await t.api("PATCH", "/v1/users/ana/state?wait=false", { mood: "ok" }, { token: ana });
    expect(w.status).toBe(202);
    const job = `/v1/jobs/${w.body.job_id}`;
    expect((await t.api("GET", job, undefined, { token: bob })).status).toBe(403);
    expect((await t.api("GET", job, undefined, { token: ana })).status).toBe(200);
    expect((await t.api("GET", job)).status).toBe(200);
  });
});

describe("service keys", () => {
  let t: TestSystem | undefined;
  afterAll(async () => t?.stop());

  it("accepts old and new key while rotating, then only the new one; JWTs are off without a secret", async () => {
    t = await startTestSystem({ env: { MEMORY_API_KEYS: "old-key-123456, new-key-654321" } });
    const get = (token: string) => t?.api("GET", "/v1/users/ana/context", undefined, { token });
    expect((await get("old-key-123456"))?.status).toBe(404); // authenticated; nothing stored yet
    expect((await get("new-key-654321"))?.status).toBe(404);
    expect((await get(TEST_KEY))?.status).toBe(401);
    expect((await get(await userToken("ana")))?.status).toBe(401);

    const config = { ...t.config, MEMORY_API_KEYS: ["new-key-654321"] };
    await t.system.close();
    t = await startTestSystem({
      dataDir: t.dataDir,
      env: {
        MEMORY_API_KEYS: config.MEMORY_API_KEYS.join(","),
        KEY_PREFIX: config.KEY_PREFIX,
        QUEUE_PREFIX: config.QUEUE_PREFIX,
        DYNAMODB_TABLE: config.DYNAMODB_TABLE,
      },
    });
    expect((await get("old-key-123456"))?.status).toBe(401);
    expect((await get("new-key-654321"))?.status).toBe(404);
  });
});
