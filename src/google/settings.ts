import { type Config, ConfigError } from "../config/config.js";
import { KeyringError, parseKeyring, TokenCipher } from "./crypto.js";

export const CALLBACK_PATH = "/v1/oauth/google/callback";
export const WEBHOOK_PATH = "/v1/webhooks/google/calendar";
export const SCOPE = "https://www.googleapis.com/auth/calendar.readonly";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Everything the Google parts read from the configuration, resolved once. */
export interface GoogleSettings {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  webhookUrl: string;
  /** googleapis `rootUrl` (the global option does not redirect calendar calls). */
  apiRoot: string;
  oauth: { authUrl: string; tokenUrl: string; revokeUrl: string };
  calendarId: string;
  cipher: TokenCipher;
  stateTtlMs: number;
  windowBackMs: number;
  windowAheadMs: number;
  fullResyncMs: number;
  pollMs: number;
  channelTtlMs: number;
  renewBeforeMs: number;
  tickBatch: number;
}

const slash = (u: string) => (u.endsWith("/") ? u : `${u}/`);

/**
 * Undefined when the feature is off (no Google client configured). A half-configured client,
 * or one without an encryption key, is a startup error: tokens are never stored in clear.
 */
export function googleSettings(c: Config): GoogleSettings | undefined {
  const named = {
    GOOGLE_CLIENT_ID: c.GOOGLE_CLIENT_ID,
    GOOGLE_CLIENT_SECRET: c.GOOGLE_CLIENT_SECRET,
    PUBLIC_BASE_URL: c.PUBLIC_BASE_URL,
  };
  const missing = Object.entries(named)
    .filter(([, v]) => v === undefined)
    .map(([k]) => k);
  if (missing.length === 3) return undefined;
  if (missing.length) throw new ConfigError(`Google Calendar is half configured: set ${missing.join(", ")}`);
  let cipher: TokenCipher;
  try {
    cipher = new TokenCipher(parseKeyring(c.TOKEN_ENCRYPTION_KEY, c.TOKEN_ENCRYPTION_KEYS));
  } catch (err) {
    const why = err instanceof KeyringError ? err.message : String(err);
    throw new ConfigError(`Google Calendar needs TOKEN_ENCRYPTION_KEY or TOKEN_ENCRYPTION_KEYS: ${why}`);
  }
  if (c.CALENDAR_RENEW_BEFORE_HOURS >= c.CALENDAR_CHANNEL_TTL_HOURS)
    throw new ConfigError("CALENDAR_RENEW_BEFORE_HOURS must be less than CALENDAR_CHANNEL_TTL_HOURS");
  const base = (c.PUBLIC_BASE_URL as string).replace(/\/+$/, "");
  const oauthRoot = c.GOOGLE_OAUTH_ROOT ? slash(c.GOOGLE_OAUTH_ROOT) : undefined;
  return {
    clientId: c.GOOGLE_CLIENT_ID as string,
    clientSecret: c.GOOGLE_CLIENT_SECRET as string,
    redirectUri: c.GOOGLE_REDIRECT_URI ?? `${base}${CALLBACK_PATH}`,
    webhookUrl: `${base}${WEBHOOK_PATH}`,
    apiRoot: slash(c.GOOGLE_API_ROOT ?? "https://www.googleapis.com/"),
    oauth: oauthRoot
      ? {
          authUrl: `${oauthRoot}o/oauth2/v2/auth`,
          tokenUrl: `${oauthRoot}token`,
          revokeUrl: `${oauthRoot}revoke`,
        }
      : {
          authUrl: "https://accounts.google.com/o/oauth2/v2/auth",
          tokenUrl: "https://oauth2.googleapis.com/token",
          revokeUrl: "https://oauth2.googleapis.com/revoke",
        },
    calendarId: c.GOOGLE_CALENDAR_ID,
    cipher,
    stateTtlMs: c.GOOGLE_STATE_TTL_SECONDS * 1000,
    windowBackMs: c.CALENDAR_SYNC_DAYS_BACK * DAY,
    windowAheadMs: c.CALENDAR_SYNC_DAYS_AHEAD * DAY,
    fullResyncMs: c.CALENDAR_FULL_RESYNC_DAYS * DAY,
    pollMs: c.CALENDAR_POLL_MINUTES * 60_000,
    channelTtlMs: c.CALENDAR_CHANNEL_TTL_HOURS * HOUR,
    renewBeforeMs: c.CALENDAR_RENEW_BEFORE_HOURS * HOUR,
    tickBatch: c.CALENDAR_TICK_BATCH,
  };
}
