import type { GoogleClient, Grant } from "./client.js";
import type { TokenCipher } from "./crypto.js";
import type { Connection, GoogleStore } from "./store.js";

/** Refresh this long before Google's expiry, so a call never starts with a token about to lapse. */
export const REFRESH_MARGIN_MS = 5 * 60_000;

export class NotConnectedError extends Error {}

const aad = (user: string, field: "refresh_token" | "access_token") => `${user}|google|${field}`;

/** Puts a fresh grant on the connection, encrypted (rotating to the primary key as a side effect). */
export function sealGrant(cipher: TokenCipher, c: Connection, g: Grant, now: Date): void {
  c.access_token = cipher.encrypt(g.access_token, aad(c.user_id, "access_token"));
  c.access_expires_at = now.getTime() + g.lifetime_ms;
  if (g.refresh_token) c.refresh_token = cipher.encrypt(g.refresh_token, aad(c.user_id, "refresh_token"));
  reseal(cipher, c);
  if (g.scope) c.scope = g.scope;
}

/** Re-encrypts the stored tokens under the primary key (key rotation); true when anything changed. */
export function reseal(cipher: TokenCipher, c: Connection): boolean {
  let changed = false;
  for (const f of ["refresh_token", "access_token"] as const) {
    const v = c[f];
    if (v && !cipher.isCurrent(v)) {
      c[f] = cipher.encrypt(cipher.decrypt(v, aad(c.user_id, f)), aad(c.user_id, f));
      changed = true;
    }
  }
  return changed;
}

export function refreshTokenOf(cipher: TokenCipher, c: Connection): string | undefined {
  return c.refresh_token ? cipher.decrypt(c.refresh_token, aad(c.user_id, "refresh_token")) : undefined;
}

/**
 * Access tokens for one user's calls. Cached (encrypted) on the connection and refreshed
 * ahead of expiry on the injectable clock; callers hold the user's sync lock, so there is
 * one refresher per user at a time.
 */
export class TokenManager {
  constructor(
    private readonly store: GoogleStore,
    private readonly google: GoogleClient,
    private readonly cipher: TokenCipher,
    private readonly now: () => Date,
  ) {}

  /** A usable access token; `force` refreshes even when the cached one looks valid (after a 401). */
  async accessToken(user: string, force = false): Promise<string> {
    const c = await this.store.get(user);
    if (c?.status !== "connected") throw new NotConnectedError(`user is not connected to Google`);
    const now = this.now().getTime();
    if (!force && c.access_token && (c.access_expires_at ?? 0) - REFRESH_MARGIN_MS > now) {
      return this.cipher.decrypt(c.access_token, aad(user, "access_token"));
    }
    const rt = refreshTokenOf(this.cipher, c);
    if (!rt) throw new NotConnectedError("no refresh token stored");
    const grant = await this.google.refresh(rt); // RevokedError propagates: the caller disconnects
    await this.store.update(user, (cur) => {
      if (cur?.status !== "connected") return undefined;
      sealGrant(this.cipher, cur, grant, this.now());
      return cur;
    });
    return grant.access_token;
  }

  /** Calls `fn` with a token; on a 401 refreshes once and calls again. */
  async withToken<T>(
    user: string,
    fn: (token: string) => Promise<T>,
    isUnauthorized: (e: unknown) => boolean,
  ) {
    try {
      return await fn(await this.accessToken(user));
    } catch (err) {
      if (!isUnauthorized(err)) throw err;
      return fn(await this.accessToken(user, true));
    }
  }
}
