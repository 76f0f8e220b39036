// The calendar entry point of googleapis: the same `calendar()` and `auth` as `google.calendar` and
// `google.auth`, without loading the other ~300 APIs (about 2 s at start-up).
import { auth, calendar, type calendar_v3 } from "googleapis/build/src/apis/calendar/index.js";
import { type GoogleSettings, SCOPE } from "./settings.js";

export type OAuth2 = InstanceType<typeof auth.OAuth2>;
export type GoogleEvent = calendar_v3.Schema$Event;

/** Google said the grant is gone (revoked, expired, or the user removed access). */
export class RevokedError extends Error {}
/** events.list with a sync token that Google no longer accepts: a full sync is required. */
export class SyncTokenGone extends Error {}
export class AccessDenied extends Error {}

interface HttpErrorShape {
  status?: number;
  response?: { status?: number; data?: unknown };
}
export const httpStatus = (err: unknown) =>
  (err as HttpErrorShape)?.response?.status ?? (err as HttpErrorShape)?.status;

function oauthErrorCode(err: unknown): string | undefined {
  const data = (err as HttpErrorShape)?.response?.data as { error?: unknown } | undefined;
  return typeof data?.error === "string" ? data.error : undefined;
}

/** A short reason for status pages and logs: never a token, a header or a body. */
export function reasonOf(err: unknown): string {
  const status = httpStatus(err);
  const code = oauthErrorCode(err);
  if (status) return `HTTP ${status}${code ? ` ${code}` : ""}`;
  const e = err as { code?: unknown; name?: unknown };
  return String(e?.code ?? e?.name ?? "error");
}

/**
 * What a failed job may carry into Redis, logs and Bull Board: an HTTP failure from Google is
 * reduced to its status and error code (its message or config could quote a request).
 */
export function sanitize(err: unknown): unknown {
  return httpStatus(err) !== undefined ? new Error(`Google answered ${reasonOf(err)}`) : err;
}

export interface Grant {
  access_token: string;
  /** Lifetime Google gave the access token, in ms. */
  lifetime_ms: number;
  refresh_token?: string;
  scope?: string;
}

function grantOf(tokens: {
  access_token?: string | null;
  expiry_date?: number | null;
  refresh_token?: string | null;
  scope?: string | null;
}): Grant {
  if (!tokens.access_token) throw new Error("token endpoint returned no access_token");
  // google-auth-library turns expires_in into an absolute expiry_date on its own clock; undo that
  // so the token manager can judge expiry on the injectable clock.
  const lifetime = tokens.expiry_date ? Math.max(0, tokens.expiry_date - Date.now()) : 3_600_000;
  return {
    access_token: tokens.access_token,
    lifetime_ms: lifetime,
    ...(tokens.refresh_token ? { refresh_token: tokens.refresh_token } : {}),
    ...(tokens.scope ? { scope: tokens.scope } : {}),
  };
}

/** OAuth 2.0 (consent URL, code exchange, refresh, revoke) and Calendar v3 calls, all via googleapis. */
export class GoogleClient {
  constructor(private readonly s: GoogleSettings) {}

  private oauth(): OAuth2 {
    return new auth.OAuth2({
      clientId: this.s.clientId,
      clientSecret: this.s.clientSecret,
      redirectUri: this.s.redirectUri,
      endpoints: {
        oauth2AuthBaseUrl: this.s.oauth.authUrl,
        oauth2TokenUrl: this.s.oauth.tokenUrl,
        oauth2RevokeUrl: this.s.oauth.revokeUrl,
      },
    });
  }

  consentUrl(state: string): string {
    return this.oauth().generateAuthUrl({
      access_type: "offline",
      // Without it a user who consented before gets no refresh token on a reconnect.
      prompt: "consent",
      scope: [SCOPE],
      include_granted_scopes: true,
      state,
    });
  }

  async exchange(code: string): Promise<Grant> {
    try {
      const { tokens } = await this.oauth().getToken(code);
      return grantOf(tokens);
    } catch (err) {
      if (oauthErrorCode(err) === "invalid_grant")
        throw new AccessDenied("the authorization code was refused");
      throw err;
    }
  }

  async refresh(refreshToken: string): Promise<Grant> {
    const client = this.oauth();
    client.setCredentials({ refresh_token: refreshToken });
    try {
      await client.getAccessToken();
    } catch (err) {
      if (oauthErrorCode(err) === "invalid_grant") throw new RevokedError("refresh token revoked or expired");
      throw err;
    }
    const g = grantOf(client.credentials);
    // The library copies the old refresh token into its credentials; only a new one matters.
    return g.refresh_token === refreshToken ? { ...g, refresh_token: undefined } : g;
  }

  async revoke(token: string): Promise<boolean> {
    try {
      await this.oauth().revokeToken(token);
      return true;
    } catch (err) {
      // Already revoked or unknown: nothing left to revoke.
      if (httpStatus(err) === 400) return true;
      return false;
    }
  }

  private calendar(accessToken: string) {
    const a = new auth.OAuth2();
    a.setCredentials({ access_token: accessToken });
    return calendar({ version: "v3", auth: a, rootUrl: this.s.apiRoot });
  }

  async listEvents(
    accessToken: string,
    q: { calendarId: string; pageToken?: string; syncToken?: string; timeMin?: string; timeMax?: string },
  ): Promise<calendar_v3.Schema$Events> {
    try {
      const r = await this.calendar(accessToken).events.list({
        calendarId: q.calendarId,
        singleEvents: true,
        maxResults: 250,
        ...(q.pageToken ? { pageToken: q.pageToken } : {}),
        ...(q.syncToken ? { syncToken: q.syncToken } : { timeMin: q.timeMin, timeMax: q.timeMax }),
      });
      return r.data;
    } catch (err) {
      if (httpStatus(err) === 410) throw new SyncTokenGone("sync token no longer valid");
      throw err;
    }
  }

  async watch(
    accessToken: string,
    w: { calendarId: string; id: string; token: string; address: string; ttlMs: number },
  ): Promise<{ resource_id: string; expires_at: number }> {
    const r = await this.calendar(accessToken).events.watch({
      calendarId: w.calendarId,
      requestBody: {
        id: w.id,
        type: "web_hook",
        address: w.address,
        token: w.token,
        params: { ttl: String(Math.floor(w.ttlMs / 1000)) },
      },
    });
    if (!r.data.resourceId) throw new Error("events.watch returned no resourceId");
    return { resource_id: r.data.resourceId, expires_at: Number(r.data.expiration ?? 0) };
  }

  /** true when stopped or already gone at Google. */
  async stop(accessToken: string, ch: { id: string; resource_id: string }): Promise<boolean> {
    try {
      await this.calendar(accessToken).channels.stop({
        requestBody: { id: ch.id, resourceId: ch.resource_id },
      });
      return true;
    } catch (err) {
      if (httpStatus(err) === 404) return true;
      throw err;
    }
  }
}

export const isUnauthorized = (err: unknown) => httpStatus(err) === 401;
