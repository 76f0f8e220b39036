import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import { GoogleServer } from "./google-server.js";
import { startTestSystem, type TestOptions, type TestSystem } from "./system.js";
import { waitFor } from "./wait.js";

/** What the deployment would be reachable at; the tests deliver Google's calls to the test system instead. */
export const PUBLIC_BASE = "https://memory.example.test";
export const CLIENT_ID = "test-client.apps.googleusercontent.com";
export const CLIENT_SECRET = "test-client-secret";

export interface Clock {
  now: () => Date;
  advance: (ms: number) => void;
}

export function clock(start = Date.now()): Clock {
  let t = start;
  return {
    now: () => new Date(t),
    advance: (ms) => {
      t += ms;
    },
  };
}

export interface GoogleHarness {
  t: TestSystem;
  google: GoogleServer;
  clock: Clock;
  key: string;
  /** Connects `user` as Google account `account` through the real consent redirect and callback. */
  connect: (user: string, account: string) => Promise<void>;
  /** Sends a push notification for the channel to the test system (as Google would to PUBLIC_BASE_URL). */
  notify: (
    channelId: string,
    state: "sync" | "exists" | "not_exists",
    o?: { token?: string },
  ) => Promise<number>;
  /** The callback URL Google's redirect points at, delivered to the test system. */
  local: (url: string) => string;
  stop: () => Promise<void>;
}

export function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  return waitFor(fn, what, timeoutMs);
}

export async function startGoogle(
  o: { env?: Record<string, string>; workers?: TestOptions["workers"]; pageSize?: number } = {},
): Promise<GoogleHarness> {
  const c = clock();
  const google = await new GoogleServer({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    now: c.now,
  }).start();
  if (o.pageSize) google.pageSize = o.pageSize;
  const key = randomBytes(32).toString("base64");
  const t = await startTestSystem({
    now: c.now,
    ...(o.workers ? { workers: o.workers } : {}),
    env: {
      GOOGLE_CLIENT_ID: CLIENT_ID,
      GOOGLE_CLIENT_SECRET: CLIENT_SECRET,
      PUBLIC_BASE_URL: PUBLIC_BASE,
      GOOGLE_API_ROOT: google.url,
      GOOGLE_OAUTH_ROOT: google.url,
      TOKEN_ENCRYPTION_KEY: key,
      // Schedulers off: the tests run ticks and sweeps themselves, on the controlled clock.
      CADENCE_SCHEDULES: "off",
      ...o.env,
    },
  });
  const local = (url: string) => url.replace(PUBLIC_BASE, t.url);
  const h: GoogleHarness = {
    t,
    google,
    clock: c,
    key,
    local,
    connect: async (user, account) => {
      google.consentAccount = account;
      const r = await t.api("GET", `/v1/users/${user}/google/connect`);
      expect(r.status).toBe(200);
      const consent = await fetch(r.body.authorization_url, { redirect: "manual" });
      expect(consent.status).toBe(302);
      const back = await fetch(local(consent.headers.get("location") as string));
      expect(back.status, await back.clone().text()).toBe(200);
    },
    notify: async (channelId, state, n = {}) => {
      const ch = google.channels.get(channelId);
      if (!ch) throw new Error(`no channel ${channelId}`);
      const saved = ch.address;
      ch.address = local(saved);
      try {
        return await google.notify(channelId, state, n.token ? { token: n.token } : {});
      } finally {
        ch.address = saved;
      }
    },
    stop: async () => {
      await t.stop();
      await google.stop();
    },
  };
  return h;
}

/** GET …/google until `pred` holds. */
export function statusUntil(h: GoogleHarness, user: string, what: string, pred: (s: any) => boolean) {
  return until(what, async () => {
    const r = await h.t.api("GET", `/v1/users/${user}/google`);
    return r.status === 200 && pred(r.body) ? r.body : undefined;
  });
}

export async function events(h: GoogleHarness, user: string, query = ""): Promise<any[]> {
  const r = await h.t.api("GET", `/v1/users/${user}/events${query}`);
  expect(r.status).toBe(200);
  return r.body.items;
}
