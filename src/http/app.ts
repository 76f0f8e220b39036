import { randomUUID } from "node:crypto";
import express, { Router } from "express";
import type { Logger } from "pino";
import { LIMITS, UserId } from "../elements/common.js";
import { parseOrThrow } from "../elements/validate.js";
import { assertMayAct, bearerAuth } from "./auth.js";
import type { ApiDeps } from "./deps.js";
import { errorHandler, notFound } from "./errors.js";
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
import { jobRoutes } from "./routes/jobs.js";

export interface AppOptions {
  apiKeys: readonly string[];
  log: Logger;
}

/** Express ingress: validates, enqueues writes, serves reads. Every /v1 route is authenticated. */
export function createApp(deps: ApiDeps, opts: AppOptions): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("query parser", "simple");

  app.use((req, res, next) => {
    const given = req.headers["x-request-id"];
    const rid = typeof given === "string" && /^[A-Za-z0-9_.-]{1,64}$/.test(given) ? given : randomUUID();
    req.headers["x-request-id"] = rid;
    res.setHeader("X-Request-Id", rid);
    const start = process.hrtime.bigint();
    res.on("finish", () => {
      // Route patterns only: ids and bodies (personal data) never reach the log.
      opts.log.info(
        {
          request_id: rid,
          method: req.method,
          route:
            `${req.baseUrl}${req.route?.path ?? ""}`.replace(/\/users\/[^/]+/, "/users/:user_id") ||
            "unmatched",
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - start) / 1e6,
        },
        "request",
      );
    });
    next();
  });

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  const v1 = Router();
  v1.use(bearerAuth(opts.apiKeys));
  v1.use(express.json({ limit: LIMITS.bodyBytes, strict: true, type: () => true }));

  const user = Router({ mergeParams: true });
  user.use((req, _res, next) => {
    const id = parseOrThrow(UserId, req.params.user_id, "path.user_id");
    assertMayAct(req.principal, id);
    next();
  });
  user.use("/profile", profileRoutes(deps));
  user.use("/preferences", preferencesRoutes(deps));
  user.use("/state", stateRoutes(deps));
  user.use("/goals", goalRoutes(deps));
  user.use("/todos", todoRoutes(deps));
  user.use("/events", eventRoutes(deps));
  user.use("/feedback", feedbackRoutes(deps));
  user.use("/context", contextRoutes(deps));

  v1.use("/users/:user_id", user);
  v1.use("/jobs", jobRoutes(deps));
  app.use("/v1", v1);
  app.use(notFound);
  app.use(errorHandler(opts.log));
  return app;
}
