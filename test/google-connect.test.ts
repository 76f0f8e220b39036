import { GetCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config/config.js";
import { DecryptError, parseKeyring, TokenCipher } from "../src/google/crypto.js";
import { googleSettings } from "../src/google/settings.js";
import { CONNECTION_SK } from "../src/google/store.js";
import { reseal } from "../src/google/tokens.js";
import { createDynamo } from "../src/infra/dynamo.js";
import {
  events,
  type GoogleHarness,
  PUBLIC_BASE,
  startGoogle,
  statusUntil,
  until,
} from "./support/google.js";
import { startTestSystem, TEST_KEY } from "./support/system.js";

const keyB64 = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");

describe("Google Calendar configuration", () => {
  const base = {
    GOOGLE_CLIENT_ID: "id",
    GOOGLE_CLIENT_SECRET: "secret",
    PUBLIC_BASE_URL: "https://m.example",
  };

  it("is off without a client, refuses half a configuration, and never runs without an encryption key", () => {
    expect(googleSettings(loadConfig({}))).toBeUndefined();
    expect(() => googleSettings(loadConfig({ GOOGLE_CLIENT_ID: "id" }))).toThrow(
      /GOOGLE_CLIENT_SECRET, PUBLIC_BASE_URL/,
    );
    expect(() => googleSettings(loadConfig(base))).toThrow(ConfigError);
    expect(() => googleSettings(loadConfig({ ...base, TOKEN_ENCRYPTION_KEY: "c2hvcnQ=" }))).toThrow(
      /32 bytes/,
    );
    const s = googleSettings(loadConfig({ ...base, TOKEN_ENCRYPTION_KEY: keyB64() }));
    expect(s?.redirectUri).toBe("https://m.example/v1/oauth/google/callback");
    expect(s?.webhookUrl).toBe("https://m.example/v1/webhooks/google/calendar");
    expect(s?.apiRoot).toBe("https://www.googleapis.com/");
  });

  it("rotates keys: the first key encrypts, every listed key decrypts, values bind to their owner", () => {
    const oldKey = keyB64();
    const newKey = keyB64();
    const before = new TokenCipher(parseKeyring(undefined, `k2024:${oldKey}`));
    const sealed = before.encrypt("1//refresh-secret", "u1|google|refresh_token");
    expect(sealed).not.toContain("refresh-secret");
    expect(TokenCipher.keyIdOf(sealed)).toBe("k2024");

    const after = new TokenCipher(parseKeyring(undefined, `k2025:${newKey},k2024:${oldKey}`));
    expect(after.decrypt(sealed, "u1|google|refresh_token")).toBe("1//refresh-secret");
    expect(() => after.decrypt(sealed, "u2|google|refresh_token")).toThrow(DecryptError);
    const conn = { user_id: "u1", refresh_token: sealed } as Parameters<typeof reseal>[1];
    expect(reseal(after, conn)).toBe(true);
    expect(TokenCipher.keyIdOf(conn.refresh_token as string)).toBe("k2025");

    const newOnly = new TokenCipher(parseKeyring(newKey, undefined));
    expect(() => newOnly.decrypt(sealed, "u1|google|refresh_token")).toThrow(/k2024.*not configured/);
    expect(() => parseKeyring(oldKey, `a:${newKey}`)).toThrow(/not both/);
    expect(() => parseKeyring(undefined, `a:${newKey},a:${oldKey}`)).toThrow(/unique/);
  });
});

describe("Google Calendar disabled", () => {
  it("reports itself disabled; manual events keep working; Google's routes do not exist", async () => {
    const t = await startTestSystem({ workers: ["persist"] });
    try {
      const s = await t.api("GET", "/v1/users/u1/google");
      expect(s.status).toBe(200);
      expect(s.body).toMatchObject({ enabled: false, status: "disabled" });
      expect((await t.api("GET", "/v1/users/u1/google/connect")).body.error.code).toBe("google_disabled");
      // Not mounted: the path is just another /v1 route behind bearer auth.
      expect(
        (await t.api("GET", "/v1/oauth/google/callback?state=x&code=y", undefined, { token: null })).status,
      ).toBe(401);
      expect((await t.api("POST", "/v1/webhooks/google/calendar", undefined, { token: null })).status).toBe(
        401,
      );
      const e = await t.api("POST", "/v1/users/u1/events", {
        summary: "Dentist",
        start: "2030-01-02T10:00:00Z",
      });
      expect(e.status).toBe(201);
      expect(e.body).toMatchObject({ source: "manual", calendar_id: "manual" });
    } finally {
      await t.stop();
    }
  });
});

describe("Google Calendar connect", () => {
  let h: GoogleHarness;
  beforeAll(async () => {
    h = await startGoogle();
  });
  afterAll(async () => h?.stop());

  it("hands out a consent URL asking for offline access to calendar.readonly with a signed state", async () => {
    const r = await h.t.api("GET", "/v1/users/carol/google/connect");
    expect(r.status).toBe(200);
    const u = new URL(r.body.authorization_url);
    expect(`${u.origin}${u.pathname}`).toBe(`${h.google.url}o/oauth2/v2/auth`);
    expect(u.searchParams.get("access_type")).toBe("offline");
    expect(u.searchParams.get("scope")).toBe("https://www.googleapis.com/auth/calendar.readonly");
    expect(u.searchParams.get("redirect_uri")).toBe(`${PUBLIC_BASE}/v1/oauth/google/callback`);
    expect(u.searchParams.get("response_type")).toBe("code");
    expect(u.searchParams.get("prompt")).toBe("consent");
    expect(u.searchParams.get("state")).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(Date.parse(r.body.state_expires_at)).toBe(h.clock.now().getTime() + 600_000);
    const redirect = await fetch(`${h.t.url}/v1/users/carol/google/connect?redirect=true`, {
      headers: { authorization: `Bearer ${TEST_KEY}` },
      redirect: "manual",
    });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\?/);
    // A user token may only start its own connection.
    expect((await h.t.api("GET", "/v1/users/carol/google/connect", undefined, { token: null })).status).toBe(
      401,
    );
  });

  it("rejects a tampered, expired, replayed or missing state, and never exchanges the code for it", async () => {
    const r = await h.t.api("GET", "/v1/users/mallory/google/connect");
    const state = new URL(r.body.authorization_url).searchParams.get("state") as string;
    const [body, kid, sig] = state.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(body, "base64url").toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, u: "victim" })).toString("base64url");
    const flipped = `${sig.slice(0, -2)}${sig.endsWith("AA") ? "BB" : "AA"}`;
    const exchanges = h.google.stats.exchanges;
    const cb = (s: string) =>
      h.t.api("GET", `/v1/oauth/google/callback?code=4/abc&state=${encodeURIComponent(s)}`, undefined, {
        token: null,
      });
    for (const bad of [
      `${forged}.${kid}.${sig}`,
      `${body}.${kid}.${flipped}`,
      `${body}.other.${sig}`,
      "garbage",
      "",
    ]) {
      const res = await cb(bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.error.code).toBe("invalid_state");
    }
    expect(
      (await h.t.api("GET", "/v1/oauth/google/callback?code=4/abc", undefined, { token: null })).body.error
        .code,
    ).toBe("invalid_state");
    h.clock.advance(601_000);
    const expired = await cb(state);
    expect(expired.body.error.message).toMatch(/expired/);
    h.clock.advance(-601_000);
    expect(h.google.stats.exchanges).toBe(exchanges);
    expect((await h.t.api("GET", "/v1/users/victim/google")).body.status).toBe("not_connected");

    // The genuine state works once; replaying the same callback URL fails.
    h.google.consentAccount = "mallory";
    const consent = await fetch(r.body.authorization_url, { redirect: "manual" });
    const callback = h.local(consent.headers.get("location") as string);
    expect((await fetch(callback)).status).toBe(200);
    const replay = await fetch(callback);
    expect(replay.status).toBe(400);
    expect((await replay.json()).error.code).toBe("invalid_state");
  });

  it("stores the refresh token encrypted (unreadable without the key), queues the first sync, exports no token", async () => {
    h.google.put("dana", {
      id: "ev1",
      summary: "Standup",
      start: { dateTime: new Date(h.clock.now().getTime() + 86_400_000).toISOString() },
    });
    await h.connect("dana", "dana");
    const st = await statusUntil(
      h,
      "dana",
      "first sync",
      (s) => s.last_sync_status === "ok" && s.push.status === "active",
    );
    expect(st).toMatchObject({
      enabled: true,
      status: "connected",
      calendar_id: "primary",
      push: { status: "active" },
    });
    expect(st.last_sync_counts.upserted).toBe(1);
    expect((await events(h, "dana"))[0]).toMatchObject({
      summary: "Standup",
      source: "google",
      google_event_id: "ev1",
    });

    // The raw item in DynamoDB: ciphertexts under a key id, no plaintext token anywhere in the table.
    const db = createDynamo(h.t.system.dynamoEndpoint as string, "us-east-1");
    try {
      const item = (
        await db.send(
          new GetCommand({
            TableName: h.t.config.DYNAMODB_TABLE,
            Key: { pk: "USER#dana", sk: CONNECTION_SK },
          }),
        )
      ).Item as Record<string, string>;
      expect(item.refresh_token).toMatch(/^v1\.fp-[0-9a-f]{12}\.[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(item.access_token).toMatch(/^v1\./);
      const all = JSON.stringify(
        (await db.send(new ScanCommand({ TableName: h.t.config.DYNAMODB_TABLE }))).Items,
      );
      expect(all).not.toMatch(/1\/\/[0-9a-f]{32}/); // the local server's refresh tokens
      expect(all).not.toMatch(/ya29\.[0-9a-f]{32}/); // and its access tokens
      const right = new TokenCipher(parseKeyring(h.key, undefined));
      expect(right.decrypt(item.refresh_token as string, "dana|google|refresh_token")).toMatch(
        /^1\/\/[0-9a-f]{32}$/,
      );
      const wrong = new TokenCipher(
        parseKeyring(undefined, `${TokenCipher.keyIdOf(item.refresh_token as string)}:${keyB64()}`),
      );
      expect(() => wrong.decrypt(item.refresh_token as string, "dana|google|refresh_token")).toThrow(
        DecryptError,
      );
    } finally {
      db.destroy();
    }

    const exp = await h.t.api("GET", "/v1/users/dana/export");
    expect(exp.status).toBe(200);
    expect(exp.body.tiers.google_calendar).toMatchObject({ status: "connected", push: { status: "active" } });
    const text = JSON.stringify(exp.body);
    expect(text).not.toMatch(/1\/\/[0-9a-f]{32}|ya29\.|v1\.fp-/);
  });

  it("DELETE stops the channel, revokes the grant, forgets the tokens; purge removes only Google's events", async () => {
    h.google.put("erin", {
      id: "g1",
      summary: "Review",
      start: { dateTime: new Date(h.clock.now().getTime() + 2 * 86_400_000).toISOString() },
    });
    await h.connect("erin", "erin");
    await statusUntil(
      h,
      "erin",
      "first sync",
      (s) => s.last_sync_status === "ok" && s.push.status === "active",
    );
    const manual = await h.t.api("POST", "/v1/users/erin/events", {
      summary: "Gym",
      start: "2031-01-01T10:00:00Z",
    });
    expect(manual.status).toBe(201);
    const ch = h.google.activeChannels("erin");
    expect(ch).toHaveLength(1);

    const keep = await h.t.api("DELETE", "/v1/users/erin/google");
    expect(keep.status).toBe(200);
    expect(keep.body).toMatchObject({
      disconnected: true,
      channels_stopped: 1,
      token_revoked: true,
      events_purged: 0,
    });
    expect(h.google.activeChannels("erin")).toHaveLength(0);
    expect((await h.t.api("GET", "/v1/users/erin/google")).body.status).toBe("not_connected");
    expect((await events(h, "erin")).map((e) => e.summary).sort()).toEqual(["Gym", "Review"]);

    await h.connect("erin", "erin");
    await statusUntil(h, "erin", "sync after reconnect", (s) => s.last_sync_status === "ok");
    const purge = await h.t.api("DELETE", "/v1/users/erin/google?purge=true");
    expect(purge.body).toMatchObject({ disconnected: true, events_purged: 1 });
    expect((await events(h, "erin")).map((e) => e.summary)).toEqual(["Gym"]);
    expect(await h.t.system.deps.calendar?.due.get("erin")).toBeUndefined();
  });

  it("erasure stops channels and revokes the grant before the records go", async () => {
    await h.connect("fay", "fay");
    await statusUntil(h, "fay", "channel", (s) => s.push.status === "active");
    const revoked = h.google.stats.revocations.length;
    const r = await h.t.api("DELETE", "/v1/users/fay");
    expect(r.status).toBe(200);
    expect(r.body.remaining.google_calendar).toBe(0);
    expect(h.google.activeChannels("fay")).toHaveLength(0);
    expect(h.google.stats.revocations.length).toBe(revoked + 1);
    await until(
      "no connection",
      async () => (await h.t.api("GET", "/v1/users/fay/google")).body.status === "not_connected",
    );
  });
});
