import { createHash, timingSafeEqual } from "node:crypto";
import type { RequestHandler, Response } from "express";
import { errors as joseErrors, jwtVerify } from "jose";
import { UserId } from "../elements/common.js";
import { ForbiddenError, UnauthorizedError } from "../errors.js";

/** Who is calling: a service key may act on any user; a user token only on its own user. */
export type Principal = { kind: "service"; key_id: string } | { kind: "user"; user_id: string };

declare global {
  namespace Express {
    interface Request {
      principal?: Principal;
    }
  }
}

export interface AuthOptions {
  /** MEMORY_API_KEYS: every listed key is valid, so rotation = list old and new, then drop old. */
  keys: readonly string[];
  /** MEMORY_JWT_SECRET (HS256); without it user tokens are refused. */
  jwtSecret?: string;
  now: () => Date;
}

const digest = (s: string) => createHash("sha256").update(s).digest();
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
// Tokens are minted by the companion backend; a little slack absorbs clock skew between hosts.
const CLOCK_TOLERANCE_S = 30;

/** Stable across rotations (unlike a list index) and not the key itself: names the rate-limit bucket. */
export const keyId = (key: string) => `k_${digest(key).toString("hex").slice(0, 12)}`;

function refuse(res: Response, message?: string): UnauthorizedError {
  res.setHeader("WWW-Authenticate", 'Bearer realm="companion-memory"');
  return new UnauthorizedError(message);
}

export function bearerAuth(opts: AuthOptions): RequestHandler {
  // Fixed-length digests compared in constant time, against every key (no early exit).
  const keys = opts.keys.map((k) => ({ d: digest(k), id: keyId(k) }));
  const secret = opts.jwtSecret ? new TextEncoder().encode(opts.jwtSecret) : undefined;

  return async (req, res, next) => {
    const m = /^Bearer ([\x21-\x7e]{1,4096})$/.exec(req.headers.authorization ?? "");
    const token = m?.[1];
    if (!token) return next(refuse(res));
    const given = digest(token);
    let match: string | undefined;
    for (const k of keys) if (timingSafeEqual(k.d, given)) match ??= k.id;
    if (match) {
      req.principal = { kind: "service", key_id: match };
      return next();
    }
    if (!secret || !JWT_SHAPE.test(token)) return next(refuse(res));
    try {
      const { payload } = await jwtVerify(token, secret, {
        algorithms: ["HS256"], // pinned: `none`, HS512, RS256 (key confusion) … are refused
        requiredClaims: ["exp", "sub"],
        currentDate: opts.now(),
        clockTolerance: CLOCK_TOLERANCE_S,
      });
      const sub = UserId.safeParse(payload.sub);
      if (!sub.success) return next(refuse(res, "token subject is not a valid user id"));
      req.principal = { kind: "user", user_id: sub.data };
      next();
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) return next(refuse(res, "token expired"));
      if (err instanceof joseErrors.JOSEError) return next(refuse(res));
      next(err);
    }
  };
}

export function assertMayAct(p: Principal | undefined, user: string): void {
  if (!p) throw new UnauthorizedError();
  if (p.kind === "user" && p.user_id !== user) throw new ForbiddenError();
}
