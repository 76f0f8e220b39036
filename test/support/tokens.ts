import { SignJWT } from "jose";

export const TEST_JWT_SECRET = "test-jwt-secret-0123456789abcdef-0123456789";

/** A user token as the companion backend would mint it (HS256, sub = user id, exp required). */
export function userToken(
  user: string,
  o: { expiresAt?: Date; secret?: string; alg?: string; notBefore?: Date; omitExp?: boolean } = {},
): Promise<string> {
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg: o.alg ?? "HS256", typ: "JWT" })
    .setSubject(user)
    .setIssuedAt();
  if (!o.omitExp) jwt.setExpirationTime(o.expiresAt ?? new Date(Date.now() + 3600_000));
  if (o.notBefore) jwt.setNotBefore(o.notBefore);
  return jwt.sign(new TextEncoder().encode(o.secret ?? TEST_JWT_SECRET));
}

/** An unsigned token (`alg: none`) claiming to be `user`: must always be refused. */
export function unsignedToken(user: string): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const exp = Math.floor(Date.now() / 1000) + 3600;
  return `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: user, exp })}.`;
}
