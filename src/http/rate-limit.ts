import type { RequestHandler, Response } from "express";
import { RateLimitedError } from "../errors.js";
import type { RateDecision, RateLimiter } from "../repositories/rate-limiter.js";
import { userOf } from "./params.js";

/** Requests per minute; 0 turns a limit off. */
export interface RateLimits {
  perKey: number;
  perUser: number;
}

function verdict(res: Response, d: RateDecision, who: string, perMinute: number) {
  if (d.allowed) return undefined;
  res.setHeader("Retry-After", String(d.retryAfterS));
  return new RateLimitedError(`${who} may make ${perMinute} requests per minute`, d.retryAfterS);
}

/** Who calls: a service key draws from its key's bucket, a user token from its user's. */
export function limitCaller(limiter: RateLimiter, limits: RateLimits): RequestHandler {
  return async (req, res, next) => {
    const p = req.principal;
    if (p?.kind === "service" && limits.perKey > 0) {
      return next(verdict(res, await limiter.forKey(p.key_id, limits.perKey), "this key", limits.perKey));
    }
    if (p?.kind === "user" && limits.perUser > 0) {
      return next(
        verdict(res, await limiter.forUser(p.user_id, limits.perUser), "this user", limits.perUser),
      );
    }
    next();
  };
}

/**
 * Whom it is about (after the user id is validated): every caller acting on a user draws
 * from that user's bucket, so one user cannot be hammered through several keys. A user
 * token acting on itself has already paid in `limitCaller`.
 */
export function limitTargetUser(limiter: RateLimiter, limits: RateLimits): RequestHandler {
  return async (req, res, next) => {
    const user = userOf(req);
    const p = req.principal;
    if (limits.perUser <= 0 || (p?.kind === "user" && p.user_id === user)) return next();
    next(verdict(res, await limiter.forUser(user, limits.perUser), "this user", limits.perUser));
  };
}
