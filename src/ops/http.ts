import { createHash, timingSafeEqual } from "node:crypto";
import express, { type Express, type RequestHandler } from "express";
import { ADMIN_PATH, type AdminOptions, adminRouter } from "./admin.js";
import type { Metrics } from "./metrics.js";
import type { OpsQueues } from "./queues.js";
import type { Readiness } from "./readiness.js";

export interface Ops {
  metrics: Metrics;
  readiness: Readiness;
  queues: OpsQueues;
  admin: AdminOptions;
  /** When set, /metrics wants `Authorization: Bearer <METRICS_TOKEN>`; otherwise it is open. */
  metricsToken?: string | undefined;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

function metricsAuth(token: string | undefined): RequestHandler {
  if (!token) return (_req, _res, next) => next();
  const want = digest(`Bearer ${token}`);
  return (req, res, next) => {
    if (timingSafeEqual(want, digest(req.headers.authorization ?? ""))) return next();
    res.status(401).json({ error: { code: "unauthorized", message: "metrics token required" } });
  };
}

/** /readyz and /metrics (no admin board): what a worker-only process serves on OPS_PORT. */
export function mountProbes(app: Express, ops: Ops): void {
  app.get("/readyz", async (_req, res) => {
    const r = await ops.readiness.report();
    res.status(r.status === "ready" ? 200 : 503).json(r);
  });
  app.get("/metrics", metricsAuth(ops.metricsToken), async (_req, res) => {
    const body = await ops.metrics.registry.metrics();
    res.setHeader("Content-Type", ops.metrics.registry.contentType);
    res.send(body);
  });
}

/** Probes plus the Bull Board at /admin/queues (API process). */
export function mountOps(app: Express, ops: Ops): void {
  mountProbes(app, ops);
  app.use(ADMIN_PATH, adminRouter(ops.queues, ops.admin));
}

/** The small server a worker-only process runs on OPS_PORT. */
export function createOpsApp(ops: Ops): Express {
  const app = express();
  app.disable("x-powered-by");
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  mountProbes(app, ops);
  return app;
}
