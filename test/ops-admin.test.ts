import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import express from "express";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUEUE_NAMES } from "../queues/names.js";
import { ADMIN_PATH, adminRouter } from "../src/ops/admin.js";
import { launchChromium } from "./support/chromium.js";
import { until } from "./support/ops.js";
import { startTestSystem, TEST_KEY, type TestSystem } from "./support/system.js";

const ADMIN = { username: "ops-admin", password: "board-password-4c1f9e" };
const ARTIFACTS = "test/artifacts";
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;

/** A persist job the worker refuses with UnrecoverableError (bad envelope): it lands in failed at once. */
async function failedJob(t: TestSystem): Promise<string> {
  const q = t.system.ops.queues.byName.get("persist");
  if (!q) throw new Error("no persist queue");
  const job = await q.add("persist", { op: "explode", user_id: "board-user" });
  await until("the malformed job to fail", async () => (await job.getState()) === "failed");
  return String(job.id);
}

describe("Bull Board at /admin/queues", () => {
  let browser: Browser;
  let rw: TestSystem;
  let ro: TestSystem;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
    const env = { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password };
    [rw, ro] = await Promise.all([
      startTestSystem({ env }),
      startTestSystem({ env: { ...env, ADMIN_READ_ONLY: "true" } }),
    ]);
    await Promise.all([failedJob(rw), failedJob(ro)]);
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([rw?.stop(), ro?.stop()]);
  });

  it("refuses requests without the admin credential, including the service key", async () => {
    // Chromium answers a 401 Basic challenge it has no credentials for with ERR_INVALID_AUTH_CREDENTIALS;
    // the response it got is still observable.
    const page = await browser.newPage();
    try {
      const response = page.waitForResponse((r) => r.url().endsWith(ADMIN_PATH));
      const nav = await page.goto(`${rw.url}${ADMIN_PATH}`).then(
        () => "loaded",
        (e: Error) => e.message,
      );
      expect(nav).toMatch(/ERR_INVALID_AUTH_CREDENTIALS/);
      expect((await response).status()).toBe(401);
    } finally {
      await page.close();
    }
    const plain = await fetch(`${rw.url}${ADMIN_PATH}`);
    expect(plain.status).toBe(401);
    expect(plain.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
    for (const authorization of [
      `Bearer ${TEST_KEY}`,
      basic(ADMIN.username, TEST_KEY),
      basic(ADMIN.username, `${ADMIN.password}x`),
      basic(`${ADMIN.username}x`, ADMIN.password),
      basic("", ""),
    ]) {
      const r = await fetch(`${rw.url}${ADMIN_PATH}/api/queues`, { headers: { authorization } });
      expect(r.status, authorization).toBe(401);
    }
    const ok = await fetch(`${rw.url}${ADMIN_PATH}/api/queues`, {
      headers: { authorization: basic(ADMIN.username, ADMIN.password) },
    });
    expect(ok.status).toBe(200);
  });

  it("loads in Chromium, lists every queue and shows a failed job's reason", async () => {
    const ctx = await browser.newContext({ httpCredentials: ADMIN, viewport: { width: 1280, height: 800 } });
    try {
      const page = await ctx.newPage();
      const res = await page.goto(`${rw.url}${ADMIN_PATH}`);
      expect(res?.status()).toBe(200);
      for (const q of QUEUE_NAMES) {
        await page.getByRole("link", { name: q, exact: true }).first().waitFor({ timeout: 20_000 });
      }
      await page.screenshot({ path: `${ARTIFACTS}/bull-board-overview.png`, fullPage: true });

      await page.goto(`${rw.url}${ADMIN_PATH}/queue/persist?status=failed`);
      await page
        .getByText(/invalid persist payload/)
        .first()
        .waitFor({ timeout: 20_000 });
      await expect(page.getByText("UnrecoverableError").first().isVisible()).resolves.toBe(true);
      // Writable board: the retry and clean actions are offered.
      await page.getByRole("button", { name: "Retry all" }).waitFor({ timeout: 10_000 });
      expect(await page.getByRole("button", { name: "Clean all" }).count()).toBe(1);
      await page.screenshot({ path: `${ARTIFACTS}/bull-board-failed.png`, fullPage: true });
    } finally {
      await ctx.close();
    }
  });

  it("in read-only mode shows the failure but hides retry/clean and refuses actions", async () => {
    const ctx = await browser.newContext({ httpCredentials: ADMIN, viewport: { width: 1280, height: 800 } });
    try {
      const page = await ctx.newPage();
      await page.goto(`${ro.url}${ADMIN_PATH}/queue/persist?status=failed`);
      await page
        .getByText(/invalid persist payload/)
        .first()
        .waitFor({ timeout: 20_000 });
      // The job's tabs are rendered, so the action bar would be there by now if it were shown.
      await page.getByRole("tab", { name: "Data" }).first().waitFor({ timeout: 10_000 });
      expect(await page.getByRole("button", { name: /retry/i }).count()).toBe(0);
      expect(await page.getByRole("button", { name: /clean/i }).count()).toBe(0);
      await page.screenshot({ path: `${ARTIFACTS}/bull-board-read-only.png`, fullPage: true });
    } finally {
      await ctx.close();
    }
    const auth = { authorization: basic(ADMIN.username, ADMIN.password) };
    const retry = await fetch(`${ro.url}${ADMIN_PATH}/api/queues/persist/retry/failed`, {
      method: "PUT",
      headers: auth,
    });
    expect(retry.status).toBe(405);
    const failed = await ro.system.ops.queues.byName.get("persist")?.getJobCounts("failed");
    expect(failed?.failed).toBe(1);
  });

  it("is disabled with a clear message when ADMIN_USER/ADMIN_PASSWORD are unset", async () => {
    const app = express();
    app.use(ADMIN_PATH, adminRouter(rw.system.ops.queues, { readOnly: false }));
    const server = await new Promise<Server>((res) => {
      const s = app.listen(0, "127.0.0.1", () => res(s));
    });
    try {
      const port = (server.address() as { port: number }).port;
      const r = await fetch(`http://127.0.0.1:${port}${ADMIN_PATH}`, {
        headers: { authorization: `Bearer ${TEST_KEY}` },
      });
      expect(r.status).toBe(404);
      expect(await r.json()).toEqual({
        error: {
          code: "admin_disabled",
          message: "Bull Board is disabled: set ADMIN_USER and ADMIN_PASSWORD to enable it",
        },
      });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
