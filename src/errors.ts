/** Typed errors; the HTTP layer maps them to status codes in one place (src/http/errors.ts). */
export interface FieldIssue {
  field: string;
  rule: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: FieldIssue[],
  ) {
    super(message);
  }
}

export class ValidationError extends AppError {
  constructor(issues: FieldIssue[], message = "request is invalid") {
    super(400, "validation_failed", message, issues);
  }
}
export class NotFoundError extends AppError {
  constructor(what: string) {
    super(404, "not_found", `${what} not found`);
  }
}
export class UnauthorizedError extends AppError {
  constructor(message = "missing or invalid bearer token") {
    super(401, "unauthorized", message);
  }
}
export class ForbiddenError extends AppError {
  constructor(message = "this token may not act on this user") {
    super(403, "forbidden", message);
  }
}
export class UnavailableError extends AppError {
  constructor(dependency: string) {
    super(503, "unavailable", `${dependency} is unavailable, retry later`);
  }
}
export class RateLimitedError extends AppError {
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super(429, "rate_limited", `${message}; retry after ${retryAfterS} s`);
  }
}
export class ErasureIncompleteError extends AppError {
  constructor(readonly remaining: Record<string, number>) {
    super(
      503,
      "erasure_incomplete",
      `records remain after erasure (${Object.entries(remaining)
        .filter(([, n]) => n > 0)
        .map(([t, n]) => `${t}: ${n}`)
        .join(", ")}); retry, erasure is idempotent`,
    );
  }
}
