import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/**
 * A local server speaking the parts of Google's protocols the calendar sync uses: the OAuth 2.0
 * consent redirect, token endpoint (authorization_code, refresh_token, invalid_grant) and
 * revocation; Calendar v3 events.list (timeMin/timeMax window, singleEvents expansion of DAILY
 * and WEEKLY RRULEs with COUNT, pageToken, syncToken, 410 Gone, cancelled entries),
 * events.watch and channels.stop; and it sends push notifications like Google does.
 */

export interface EventInput {
  id: string;
  summary?: string;
  description?: string;
  location?: string;
  start: { dateTime?: string; date?: string };
  end?: { dateTime?: string; date?: string };
  recurrence?: string[];
  attendees?: { email: string }[];
}

interface StoredEvent extends EventInput {
  status: "confirmed" | "cancelled";
  updated: string;
  seq: number;
}

interface Account {
  events: Map<string, StoredEvent>;
  counter: number;
  /** Sync tokens of an older epoch answer 410. */
  epoch: number;
  /** Served once by the next incremental list, ahead of the real changes (out-of-order delivery). */
  stale: StoredEvent[];
}

interface Channel {
  id: string;
  account: string;
  resourceId: string;
  token: string;
  address: string;
  expiration: number;
  stopped: boolean;
}

export interface GoogleServerOptions {
  clientId: string;
  clientSecret: string;
  now?: () => Date;
}

const DAY = 86_400_000;

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
}

const apiError = (res: ServerResponse, status: number, reason: string, message = reason) =>
  send(res, status, { error: { code: status, message, errors: [{ domain: "global", reason, message }] } });

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
const unb64 = <T>(s: string): T | undefined => {
  try {
    return JSON.parse(Buffer.from(s, "base64url").toString("utf8")) as T;
  } catch {
    return undefined;
  }
};

const ms = (t?: { dateTime?: string; date?: string }) =>
  t?.dateTime ? Date.parse(t.dateTime) : t?.date ? Date.parse(`${t.date}T00:00:00Z`) : Number.NaN;
const basic = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");

/** singleEvents=true: a recurring event becomes its instances (DAILY/WEEKLY with COUNT). */
function expand(ev: StoredEvent): StoredEvent[] {
  const rule = ev.recurrence?.find((r) => r.startsWith("RRULE:"));
  if (!rule) return [ev];
  const freq = /FREQ=(DAILY|WEEKLY)/.exec(rule)?.[1];
  const count = Number(/COUNT=(\d+)/.exec(rule)?.[1] ?? 0);
  if (!freq || !count) throw new Error(`unsupported RRULE in the local server: ${rule}`);
  const step = freq === "DAILY" ? DAY : 7 * DAY;
  const shift = (t: StoredEvent["start"] | undefined, i: number) => {
    if (!t) return t;
    if (t.date)
      return { date: new Date(Date.parse(`${t.date}T00:00:00Z`) + i * step).toISOString().slice(0, 10) };
    return { dateTime: new Date(Date.parse(t.dateTime as string) + i * step).toISOString() };
  };
  return Array.from({ length: count }, (_, i) => {
    const { recurrence: _r, ...rest } = ev;
    const start = shift(ev.start, i) as StoredEvent["start"];
    return {
      ...rest,
      id: `${ev.id}_${basic(new Date(ms(start)))}`,
      recurringEventId: ev.id,
      start,
      end: shift(ev.end, i),
    } as StoredEvent & { recurringEventId: string };
  });
}

function wire(ev: StoredEvent): Record<string, unknown> {
  const { seq: _s, ...rest } = ev;
  if (ev.status === "cancelled") {
    const r = rest as Record<string, unknown>;
    return {
      kind: "calendar#event",
      id: ev.id,
      status: "cancelled",
      updated: ev.updated,
      ...(r.recurringEventId ? { recurringEventId: r.recurringEventId } : {}),
    };
  }
  return { kind: "calendar#event", ...rest };
}

export class GoogleServer {
  url = "";
  readonly accounts = new Map<string, Account>();
  readonly channels = new Map<string, Channel>();
  /** Account that consents on the next visit of the consent URL. */
  consentAccount = "alice";
  accessTtlS = 3600;
  pageSize = 250;
  readonly stats = {
    exchanges: 0,
    refreshes: 0,
    revocations: [] as string[],
    lists: [] as { account: string; kind: "full" | "incremental"; query: Record<string, string> }[],
    inFlight: new Map<string, number>(),
    maxInFlight: 0,
    watches: [] as { id: string; token: string; address: string; ttl?: string }[],
    stops: [] as { id: string; resourceId: string }[],
    lastAuthQuery: {} as Record<string, string>,
  };
  /** While set, events.list waits for it (to hold a sync in flight). */
  gate: Promise<void> | undefined;
  failStops = false;
  failWatches = false;

  private server: Server | undefined;
  private readonly codes = new Map<string, { account: string; redirectUri: string }>();
  private readonly refreshTokens = new Map<string, { account: string; revoked: boolean }>();
  private readonly accessTokens = new Map<string, { account: string; expiresAt: number; revoked: boolean }>();
  private lastUpdated = 0;

  constructor(private readonly o: GoogleServerOptions) {}

  private now(): number {
    return (this.o.now?.() ?? new Date()).getTime();
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => send(res, 500, { error: String(err) }));
    });
    await new Promise<void>((r) => this.server?.listen(0, "127.0.0.1", () => r()));
    const addr = this.server.address();
    this.url = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}/`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => {
      this.server?.close(() => r());
      this.server?.closeAllConnections();
    });
  }

  account(name: string): Account {
    let a = this.accounts.get(name);
    if (!a) {
      a = { events: new Map(), counter: 0, epoch: 1, stale: [] };
      this.accounts.set(name, a);
    }
    return a;
  }

  private stamp(): string {
    // Strictly increasing, on the server's clock, like Google's `updated`.
    this.lastUpdated = Math.max(this.lastUpdated + 1000, this.now());
    return new Date(this.lastUpdated).toISOString();
  }

  /** Creates or changes an event (a new `updated`, a new change number). */
  put(account: string, ev: EventInput): StoredEvent {
    const a = this.account(account);
    const stored: StoredEvent = { ...ev, status: "confirmed", updated: this.stamp(), seq: ++a.counter };
    a.events.set(ev.id, stored);
    return stored;
  }

  cancel(account: string, id: string): void {
    const a = this.account(account);
    const cur = a.events.get(id);
    if (!cur) throw new Error(`no event ${id}`);
    a.events.set(id, { ...cur, status: "cancelled", updated: this.stamp(), seq: ++a.counter });
  }

  /** Deletes an event without a trace (as after Google expired the deletion from its change log). */
  forget(account: string, id: string): void {
    this.account(account).events.delete(id);
  }

  /** Makes every sync token issued so far answer 410 Gone. */
  expireSyncTokens(account: string): void {
    this.account(account).epoch++;
  }

  /** The next incremental list also delivers this older version of an event. */
  deliverStale(account: string, ev: StoredEvent): void {
    this.account(account).stale.push(ev);
  }

  /** The user removes the app's access: refresh and access tokens stop working. */
  revokeAccount(account: string): void {
    for (const t of this.refreshTokens.values()) if (t.account === account) t.revoked = true;
    for (const t of this.accessTokens.values()) if (t.account === account) t.revoked = true;
  }

  activeChannels(account: string): Channel[] {
    return [...this.channels.values()].filter((c) => c.account === account && !c.stopped);
  }

  /** Sends a notification the way Google does (headers only, empty body). */
  async notify(
    channelId: string,
    state: "sync" | "exists" | "not_exists",
    override: Partial<{ token: string; resourceId: string }> = {},
  ): Promise<number> {
    const ch = this.channels.get(channelId);
    if (!ch) throw new Error(`no channel ${channelId}`);
    const res = await fetch(ch.address, {
      method: "POST",
      headers: {
        "X-Goog-Channel-ID": ch.id,
        "X-Goog-Channel-Token": override.token ?? ch.token,
        "X-Goog-Channel-Expiration": new Date(ch.expiration).toUTCString(),
        "X-Goog-Resource-ID": override.resourceId ?? ch.resourceId,
        "X-Goog-Resource-URI": `${this.url}calendar/v3/calendars/primary/events`,
        "X-Goog-Resource-State": state,
        "X-Goog-Message-Number": String(Date.now()),
      },
    });
    await res.arrayBuffer();
    return res.status;
  }

  private bearer(req: IncomingMessage): { account: string } | undefined {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
    const t = m?.[1] ? this.accessTokens.get(m[1]) : undefined;
    if (!t || t.revoked || t.expiresAt <= this.now()) return undefined;
    return t;
  }

  private issueAccess(account: string) {
    const access = `ya29.${randomBytes(16).toString("hex")}`;
    this.accessTokens.set(access, {
      account,
      expiresAt: this.now() + this.accessTtlS * 1000,
      revoked: false,
    });
    return access;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const path = url.pathname;
    if (req.method === "GET" && path === "/o/oauth2/v2/auth") return this.consent(url, res);
    if (req.method === "POST" && path === "/token") return this.token(await readBody(req), res);
    if (req.method === "POST" && path === "/revoke") {
      const token =
        url.searchParams.get("token") ?? new URLSearchParams(await readBody(req)).get("token") ?? "";
      const rt = this.refreshTokens.get(token);
      const at = this.accessTokens.get(token);
      if (!rt && !at) return send(res, 400, { error: "invalid_token" });
      if (rt) this.revokeAccount(rt.account);
      if (at) at.revoked = true;
      this.stats.revocations.push(token);
      return send(res, 200, {});
    }
    const list = /^\/calendar\/v3\/calendars\/([^/]+)\/events$/.exec(path);
    const watch = /^\/calendar\/v3\/calendars\/([^/]+)\/events\/watch$/.exec(path);
    if (
      (list && req.method === "GET") ||
      (watch && req.method === "POST") ||
      path === "/calendar/v3/channels/stop"
    ) {
      const who = this.bearer(req);
      if (!who) return apiError(res, 401, "authError", "Invalid Credentials");
      if (list) return this.list(who.account, url, res);
      if (watch) return this.watch(who.account, await readBody(req), res);
      return this.stopChannel(await readBody(req), res);
    }
    send(res, 404, { error: "not found" });
  }

  private consent(url: URL, res: ServerResponse) {
    const q = Object.fromEntries(url.searchParams);
    this.stats.lastAuthQuery = q;
    if (q.client_id !== this.o.clientId || q.response_type !== "code" || !q.redirect_uri || !q.state)
      return send(res, 400, { error: "invalid_request" });
    const code = `4/${randomBytes(12).toString("hex")}`;
    this.codes.set(code, { account: this.consentAccount, redirectUri: q.redirect_uri });
    const to = new URL(q.redirect_uri);
    to.searchParams.set("code", code);
    to.searchParams.set("state", q.state);
    to.searchParams.set("scope", q.scope ?? "");
    res.writeHead(302, { location: to.toString() }).end();
  }

  private token(body: string, res: ServerResponse) {
    const f = Object.fromEntries(new URLSearchParams(body));
    if (f.client_id !== this.o.clientId || f.client_secret !== this.o.clientSecret)
      return send(res, 401, { error: "invalid_client" });
    if (f.grant_type === "authorization_code") {
      this.stats.exchanges++;
      const c = this.codes.get(f.code ?? "");
      if (!c || c.redirectUri !== f.redirect_uri)
        return send(res, 400, { error: "invalid_grant", error_description: "Malformed auth code." });
      this.codes.delete(f.code as string);
      const refresh = `1//${randomBytes(16).toString("hex")}`;
      this.refreshTokens.set(refresh, { account: c.account, revoked: false });
      return send(res, 200, {
        access_token: this.issueAccess(c.account),
        expires_in: this.accessTtlS,
        refresh_token: refresh,
        scope: "https://www.googleapis.com/auth/calendar.readonly",
        token_type: "Bearer",
      });
    }
    if (f.grant_type === "refresh_token") {
      this.stats.refreshes++;
      const t = this.refreshTokens.get(f.refresh_token ?? "");
      if (!t || t.revoked)
        return send(res, 400, {
          error: "invalid_grant",
          error_description: "Token has been expired or revoked.",
        });
      return send(res, 200, {
        access_token: this.issueAccess(t.account),
        expires_in: this.accessTtlS,
        scope: "https://www.googleapis.com/auth/calendar.readonly",
        token_type: "Bearer",
      });
    }
    send(res, 400, { error: "unsupported_grant_type" });
  }

  private async list(account: string, url: URL, res: ServerResponse) {
    const q = Object.fromEntries(url.searchParams);
    const a = this.account(account);
    const flight = (this.stats.inFlight.get(account) ?? 0) + 1;
    this.stats.inFlight.set(account, flight);
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, flight);
    try {
      if (this.gate) await this.gate;
      if (q.singleEvents !== "true")
        return apiError(res, 400, "badRequest", "this server expects singleEvents=true");
      if (q.syncToken && (q.timeMin || q.timeMax))
        return apiError(res, 400, "badRequest", "syncToken cannot be combined with timeMin/timeMax");
      const page = q.pageToken
        ? unb64<{ off: number; mark: number; kind: "full" | "incremental"; since: number }>(q.pageToken)
        : undefined;
      if (q.pageToken && !page) return apiError(res, 400, "badRequest", "invalid pageToken");
      const kind = page?.kind ?? (q.syncToken ? "incremental" : "full");
      this.stats.lists.push({ account, kind, query: q });
      let since = -1;
      if (q.syncToken) {
        const st = unb64<{ epoch: number; counter: number }>(q.syncToken);
        if (!st) return apiError(res, 400, "badRequest", "invalid syncToken");
        if (st.epoch !== a.epoch)
          return apiError(res, 410, "fullSyncRequired", "Sync token is no longer valid");
        since = st.counter;
      }
      const mark = page?.mark ?? a.counter;
      let items: StoredEvent[];
      if (kind === "incremental") {
        const from = page?.since ?? since;
        const changed = [...a.events.values()].filter((e) => e.seq > from).sort((x, y) => x.seq - y.seq);
        items = changed.flatMap((e) =>
          e.recurrence ? expand(e).map((i) => ({ ...i, status: e.status })) : [e],
        );
        if (!page && a.stale.length) items = [...a.stale.splice(0), ...items];
        since = from;
      } else {
        const min = q.timeMin ? Date.parse(q.timeMin) : Number.NEGATIVE_INFINITY;
        const max = q.timeMax ? Date.parse(q.timeMax) : Number.POSITIVE_INFINITY;
        items = [...a.events.values()]
          .filter((e) => e.status === "confirmed")
          .flatMap(expand)
          .filter((e) => ms(e.end ?? e.start) > min && ms(e.start) < max)
          .sort((x, y) => ms(x.start) - ms(y.start) || x.id.localeCompare(y.id));
      }
      const size = Math.min(this.pageSize, Number(q.maxResults ?? 250));
      const off = page?.off ?? 0;
      const slice = items.slice(off, off + size);
      const more = off + size < items.length;
      send(res, 200, {
        kind: "calendar#events",
        summary: `${account}@example.com`,
        updated: new Date(this.now()).toISOString(),
        items: slice.map(wire),
        ...(more
          ? { nextPageToken: b64({ off: off + size, mark, kind, since }) }
          : { nextSyncToken: b64({ epoch: a.epoch, counter: mark }) }),
      });
    } finally {
      this.stats.inFlight.set(account, (this.stats.inFlight.get(account) ?? 1) - 1);
    }
  }

  private watch(account: string, body: string, res: ServerResponse) {
    if (this.failWatches) return apiError(res, 500, "backendError");
    const b = JSON.parse(body || "{}") as {
      id?: string;
      type?: string;
      address?: string;
      token?: string;
      params?: { ttl?: string };
    };
    if (!b.id || b.type !== "web_hook" || !b.address)
      return apiError(res, 400, "badRequest", "id, type and address are required");
    if (this.channels.has(b.id)) return apiError(res, 400, "channelIdNotUnique");
    const ttl = Number(b.params?.ttl ?? 604800) * 1000;
    const ch: Channel = {
      id: b.id,
      account,
      resourceId: `res-${randomBytes(6).toString("hex")}`,
      token: b.token ?? "",
      address: b.address,
      expiration: this.now() + ttl,
      stopped: false,
    };
    this.channels.set(ch.id, ch);
    this.stats.watches.push({
      id: b.id,
      token: ch.token,
      address: ch.address,
      ...(b.params?.ttl ? { ttl: b.params.ttl } : {}),
    });
    send(res, 200, {
      kind: "api#channel",
      id: ch.id,
      resourceId: ch.resourceId,
      resourceUri: `${this.url}calendar/v3/calendars/primary/events`,
      token: ch.token,
      expiration: String(ch.expiration),
    });
  }

  private stopChannel(body: string, res: ServerResponse) {
    if (this.failStops) return apiError(res, 500, "backendError");
    const b = JSON.parse(body || "{}") as { id?: string; resourceId?: string };
    const ch = b.id ? this.channels.get(b.id) : undefined;
    if (!ch || ch.resourceId !== b.resourceId || ch.stopped)
      return apiError(res, 404, "notFound", "Channel not found");
    ch.stopped = true;
    this.stats.stops.push({ id: ch.id, resourceId: ch.resourceId });
    send(res, 204);
  }
}
