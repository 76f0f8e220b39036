import { createHash, timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";
import { ForbiddenError, UnauthorizedError } from "../errors.js";

/** Who is calling: a service key may act on any user; user tokens (later) only on their own. */
export type Principal = { kind: "service"; key_id: string } | { kind: "user"; user_id: string };

declare global {
  namespace Express {
    interface Request {
      principal?: Principal;
    }
  }
}

const digest = (s: string) => createHash("sha256").update(s).digest();

export function bearerAuth(keys: readonly string[]): RequestHandler {
  // Compare fixed-length digests in constant time; every listed key is valid (rotation = list old and new).
  const digests = keys.map((k, i) => ({ d: digest(k), id: `key${i + 1}` }));
  return (req, _res, next) => {
    const h = req.headers.authorization ?? "";
    const m = /^Bearer ([\x21-\x7e]{1,4096})$/.exec(h);
    if (!m?.[1]) return next(new UnauthorizedError());
    const given = digest(m[1]);
    let match: string | undefined;
    for (const k of digests) if (timingSafeEqual(k.d, given)) match ??= k.id;
    if (!match) return next(new UnauthorizedError());
    req.principal = { kind: "service", key_id: match };
    next();
  };
}

export function assertMayAct(p: Principal | undefined, user: string): void {
  if (!p) throw new UnauthorizedError();
  if (p.kind === "user" && p.user_id !== user) throw new ForbiddenError();
}
