import type { ErrorRequestHandler, RequestHandler } from "express";
import { AppError } from "../errors.js";

function dependencyDown(err: unknown): string | undefined {
  const e = err as { name?: string; message?: string; code?: string; $metadata?: unknown };
  const msg = `${e?.name ?? ""} ${e?.message ?? ""} ${e?.code ?? ""}`;
  if (
    /MaxRetriesPerRequest|Connection is closed|Stream isn't writeable|ECONNREFUSED.*6379|NOSCRIPT|LOADING/i.test(
      msg,
    ) &&
    !e.$metadata
  )
    return "redis";
  if (e?.$metadata !== undefined || /ECONNREFUSED|ECONNRESET|socket hang up|TimeoutError/i.test(msg))
    return "dynamodb";
  return undefined;
}

/** The one place errors become HTTP answers: JSON, stable codes, never a stack. */
export const errorHandler =
  (log: { error: (o: object, m: string) => void }): ErrorRequestHandler =>
  (err, req, res, _next) => {
    const rid = req.headers["x-request-id"];
    if (err instanceof AppError) {
      if (err.status === 503 && !res.getHeader("Retry-After")) res.setHeader("Retry-After", "1");
      res.status(err.status).json({ error: { code: err.code, message: err.message, details: err.details } });
      return;
    }
    const type = (err as { type?: string }).type;
    if (type === "entity.parse.failed") {
      res.status(400).json({
        error: {
          code: "invalid_json",
          message: "body is not valid JSON",
          details: [{ field: "(body)", rule: "json", message: "body must be valid JSON" }],
        },
      });
      return;
    }
    if (type === "entity.too.large") {
      res.status(413).json({ error: { code: "payload_too_large", message: "body exceeds the size limit" } });
      return;
    }
    if (type === "encoding.unsupported" || type === "charset.unsupported") {
      res.status(415).json({ error: { code: "unsupported_encoding", message: "body must be UTF-8 JSON" } });
      return;
    }
    const dep = dependencyDown(err);
    if (dep) {
      res.setHeader("Retry-After", "1");
      res.status(503).json({ error: { code: "unavailable", message: `${dep} is unavailable, retry later` } });
      return;
    }
    log.error(
      { err: { name: (err as Error)?.name, message: (err as Error)?.message }, request_id: rid },
      "unhandled error",
    );
    res.status(500).json({ error: { code: "internal", message: "internal error" } });
  };

export const notFound: RequestHandler = (_req, res) => {
  res.status(404).json({ error: { code: "route_not_found", message: "no such route" } });
};
