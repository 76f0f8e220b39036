import { randomUUID } from "node:crypto";
import express, { Router } from "express";
import type { Logger } from "pino";
import { LIMITS, UserId } from "../elements/common.js";
import { parseOrThrow } from "../elements/validate.js";
import { UnavailableError } from "../errors.js";
import { mountOps, type Ops } from "../ops/http.js";
import { routeLabeler } from "../ops/routes.js";
import { assertMayAct, bearerAuth } from "./auth.js";
import type { ApiDeps } from "./deps.js";
import { errorHandler, notFound } from "./errors.js";
import { openApiHandler } from "./openapi.js";
import { limitCaller, limitTargetUser, type RateLimits } from "./rate-limit.js";
import { digestRoutes, inferRoutes, journalRoutes } from "./routes/cadence.js";
import { contextRoutes } from "./routes/context.js";
import {
  eventRoutes,
  goalRoutes,
  preferencesRoutes,
  profileRoutes,
  stateRoutes,
  todoRoutes,
} from "./routes/elements.js";
import { feedbackRoutes } from "./routes/feedback.js";
import { googlePublicRoutes, googleRoutes } from "./routes/google.js";
import { jobRoutes } from "./routes/jobs.js";
import { searchRoutes } from "./routes/search.js";
import { userDataRoutes } from "./routes/user-data.js";

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH"]);

export interface AppOptions {
  apiKeys: readonly string[];
  log: Logger;
  /** HS256 secret for user tokens (README "Access control, export and erasure"). */
  jwtSecret?: string;
  /** Per-minute limits; absent = no limiting. */
  rateLimits?: RateLimits;
  /** /readyz, /metrics, /admin/queues and HTTP latency metrics (README "Operations"). */
  ops?: Ops;
}

/** Express ingress: validates, enqueues writes, serves reads. Every /v1 route is authenticated. */
export function createApp(deps: ApiDeps, opts: AppOptions): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("query parser", "simple");
  const routeOf = routeLabeler(app);

  app.use((req, res, next) => {
    const given = req.headers["x-request-id"];
    const rid = typeof given === "string" && /^[A-Za-z0-9_.-]{1,64}$/.test(given) ? given : randomUUID();
    req.headers["x-request-id"] = rid;
    res.setHeader("X-Request-Id", rid);
    const start = process.hrtime.bigint();
    res.on("finish", () => {
      // Route patterns only: ids and bodies (personal data) never reach the log or a metric label.
      const route = routeOf(req);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      opts.ops?.metrics.http.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      opts.log.info(
        { request_id: rid, method: req.method, route, status: res.statusCode, ms: seconds * 1000 },
        "request",
      );
    });
    next();
  });

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/openapi.json", openApiHandler());
  if (opts.ops) mountOps(app, opts.ops);

  const v1 = Router();
  v1.use((_req, _res, next) =>
    next(deps.redisReady && !deps.redisReady() ? new UnavailableError("redis") : undefined),
  );
  v1.use(bearerAuth({ keys: opts.apiKeys, jwtSecret: opts.jwtSecret, now: deps.now }));
  if (opts.rateLimits) v1.use(limitCaller(deps.limiter, opts.rateLimits));
  v1.use(
    express.json({
      limit: LIMITS.bodyBytes,
      strict: true,
      type: () => true,
      // body-parser reads an empty body as {}, which would make an empty PUT wipe a document.
      verify: (req, _res, buf) => {
        if (buf.length === 0 && WRITE_METHODS.has(req.method ?? ""))
          throw Object.assign(new Error("empty body"), { type: "entity.parse.failed" });
      },
    }),
  );

  const user = Router({ mergeParams: true });
  user.use((req, _res, next) => {
    const id = parseOrThrow(UserId, req.params.user_id, "path.user_id");
    assertMayAct(req.principal, id);
    next();
  });
  if (opts.rateLimits) user.use(limitTargetUser(deps.limiter, opts.rateLimits));
  user.use("/profile", profileRoutes(deps));
  user.use("/preferences", preferencesRoutes(deps));
  user.use("/state", stateRoutes(deps));
  user.use("/goals", goalRoutes(deps));
  user.use("/todos", todoRoutes(deps));
  user.use("/events", eventRoutes(deps));
  user.use("/feedback", feedbackRoutes(deps));
  user.use("/context", contextRoutes(deps));
  user.use("/google", googleRoutes(deps));
  user.use("/search", searchRoutes(deps));
  if (deps.cadence) {
    user.use("/journal", journalRoutes(deps, deps.cadence));
    user.use("/digest", digestRoutes(deps, deps.cadence));
    user.use("/infer", inferRoutes(deps, deps.cadence));
  }
  user.use(userDataRoutes(deps));

  v1.use("/users/:user_id", user);
  v1.use("/jobs", jobRoutes(deps));
  // Google calls these two without a bearer token (README "Google Calendar"); absent when not configured.
  if (deps.calendar?.google) app.use(googlePublicRoutes(deps.calendar.google));
  app.use("/v1", v1);
  app.use(notFound);
  app.use(errorHandler(opts.log));
  return app;
}
