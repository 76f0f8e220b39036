import { createHash, timingSafeEqual } from "node:crypto";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import { type RequestHandler, Router } from "express";
import type { OpsQueues } from "./queues.js";

export const ADMIN_PATH = "/admin/queues";

export interface AdminOptions {
  user?: string | undefined;
  password?: string | undefined;
  readOnly: boolean;
}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** HTTP Basic against ADMIN_USER/ADMIN_PASSWORD only; the service keys never open the board. */
export function basicAuth(user: string, password: string): RequestHandler {
  const u = digest(user);
  const p = digest(password);
  return (req, res, next) => {
    const m = /^Basic ([A-Za-z0-9+/=]{1,2048})$/.exec(req.headers.authorization ?? "");
    const decoded = m?.[1] ? Buffer.from(m[1], "base64").toString("utf8") : "";
    const colon = decoded.indexOf(":");
    const givenUser = colon >= 0 ? decoded.slice(0, colon) : "";
    const givenPass = colon >= 0 ? decoded.slice(colon + 1) : "";
    // Both comparisons always run (no short-circuit), each on fixed-length digests.
    const userOk = timingSafeEqual(u, digest(givenUser));
    const passOk = timingSafeEqual(p, digest(givenPass));
    if (m && colon >= 0 && userOk && passOk) return next();
    res.setHeader("WWW-Authenticate", 'Basic realm="bull-board", charset="UTF-8"');
    res.status(401).json({ error: { code: "unauthorized", message: "admin credentials required" } });
  };
}

/** Bull Board for every queue in QUEUE_NAMES, or a 404 saying how to turn it on. */
export function adminRouter(queues: OpsQueues, opts: AdminOptions): Router {
  const r = Router();
  if (!opts.user || !opts.password) {
    r.use((_req, res) => {
      res.status(404).json({
        error: {
          code: "admin_disabled",
          message: "Bull Board is disabled: set ADMIN_USER and ADMIN_PASSWORD to enable it",
        },
      });
    });
    return r;
  }
  r.use(basicAuth(opts.user, opts.password));
  r.use((_req, res, next) => {
    res.setHeader("Cache-Control", "no-store");
    next();
  });
  if (opts.readOnly) {
    // bull-board refuses actions on read-only queues too; this also covers board-wide ones.
    r.use((req, res, next) => {
      if (req.method === "GET" || req.method === "HEAD") return next();
      res.status(405).json({ error: { code: "read_only", message: "the admin board is read-only" } });
    });
  }
  const server = new ExpressAdapter();
  server.setBasePath(ADMIN_PATH);
  createBullBoard({
    queues: queues.all.map(
      (q) => new BullMQAdapter(q, { readOnlyMode: opts.readOnly, allowRetries: !opts.readOnly }),
    ),
    serverAdapter: server,
    options: { uiConfig: { boardTitle: "Companion memory queues", hideDocsLink: true } },
  });
  r.use(server.getRouter());
  return r;
}
