import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { UserId } from "../elements/common.js";
import type { TokenCipher } from "./crypto.js";

const Claims = z.strictObject({
  u: UserId,
  n: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  e: z.number().int(),
});
export type StateClaims = { user_id: string; nonce: string; expires_at: number };

export class InvalidStateError extends Error {}

const mac = (key: Buffer, body: string) => createHmac("sha256", key).update(body).digest();

/**
 * OAuth `state`: the user it was issued for, a nonce (single use, checked by the caller) and an
 * expiry, HMAC-signed with a key derived from the token encryption keyring.
 */
export function signState(
  cipher: TokenCipher,
  user: string,
  now: Date,
  ttlMs: number,
): StateClaims & { state: string } {
  const [k] = cipher.macKeys();
  if (!k) throw new Error("no signing key");
  const claims = { u: user, n: randomBytes(18).toString("base64url"), e: now.getTime() + ttlMs };
  const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
  const state = `${body}.${k.id}.${mac(k.key, `${body}.${k.id}`).toString("base64url")}`;
  return { state, user_id: user, nonce: claims.n, expires_at: claims.e };
}

export function verifyState(cipher: TokenCipher, state: unknown, now: Date): StateClaims {
  if (typeof state !== "string" || state.length > 512) throw new InvalidStateError("state is missing");
  const [body, kid, sig, ...rest] = state.split(".");
  if (!body || !kid || !sig || rest.length) throw new InvalidStateError("state is malformed");
  const k = cipher.macKeys().find((x) => x.id === kid);
  const given = Buffer.from(sig, "base64url");
  const want = k ? mac(k.key, `${body}.${kid}`) : undefined;
  if (!want || given.length !== want.length || !timingSafeEqual(given, want))
    throw new InvalidStateError("state signature does not verify");
  let claims: z.infer<typeof Claims>;
  try {
    claims = Claims.parse(JSON.parse(Buffer.from(body, "base64url").toString("utf8")));
  } catch {
    throw new InvalidStateError("state is malformed");
  }
  if (claims.e <= now.getTime()) throw new InvalidStateError("state has expired; start the connection again");
  return { user_id: claims.u, nonce: claims.n, expires_at: claims.e };
}
