import { Router } from "express";
import { z } from "zod";
import { parseOrThrow } from "../../elements/validate.js";
import { AppError } from "../../errors.js";
import type { GoogleCalendar } from "../../google/service.js";
import { DISABLED_REASON } from "../../google/services.js";
import { CALLBACK_PATH, WEBHOOK_PATH } from "../../google/settings.js";
import type { ApiDeps } from "../deps.js";
import { userOf } from "../params.js";

const flag = z.enum(["true", "false"]).optional();
const ConnectQuery = z.looseObject({ redirect: flag });
const DeleteQuery = z.looseObject({ purge: flag });

const disabled = () =>
  new AppError(
    501,
    "google_disabled",
    `Google Calendar is not configured on this server (${DISABLED_REASON})`,
  );

/** GET/DELETE /v1/users/:user_id/google and GET …/google/connect (bearer-authenticated). */
export function googleRoutes(deps: ApiDeps): Router {
  const r = Router({ mergeParams: true });
  const google = (): GoogleCalendar => {
    const g = deps.calendar?.google;
    if (!g) throw disabled();
    return g;
  };

  r.get("/", async (req, res) => {
    res.setHeader("Cache-Control", "no-store");
    const g = deps.calendar?.google;
    if (!g) {
      res.json({ enabled: false, status: "disabled", reason: DISABLED_REASON });
      return;
    }
    res.json(await g.status(userOf(req)));
  });

  r.get("/connect", (req, res) => {
    const q = parseOrThrow(ConnectQuery, req.query, "query");
    const out = google().connect(userOf(req));
    res.setHeader("Cache-Control", "no-store");
    if (q.redirect === "true") res.redirect(302, out.authorization_url);
    else res.json(out);
  });

  r.delete("/", async (req, res) => {
    const q = parseOrThrow(DeleteQuery, req.query, "query");
    res.json(await google().disconnect(userOf(req), q.purge === "true"));
  });
  return r;
}

const header = (v: unknown) => (typeof v === "string" && v.length <= 1024 ? v : undefined);

/**
 * The two routes Google calls, outside bearer auth: the OAuth redirect (the signed `state` is
 * the credential) and the push webhook (the channel token is). Mounted only when configured.
 */
export function googlePublicRoutes(google: GoogleCalendar): Router {
  const r = Router();
  r.get(CALLBACK_PATH, async (req, res) => {
    res.setHeader("Cache-Control", "no-store");
    res.json(await google.callback(req.query as Record<string, unknown>));
  });
  r.post(WEBHOOK_PATH, async (req, res) => {
    const h = req.headers;
    const channelId = header(h["x-goog-channel-id"]);
    const token = header(h["x-goog-channel-token"]);
    const resourceId = header(h["x-goog-resource-id"]);
    const state = header(h["x-goog-resource-state"]);
    await google.notify({
      ...(channelId ? { channelId } : {}),
      ...(token ? { token } : {}),
      ...(resourceId ? { resourceId } : {}),
      ...(state ? { state } : {}),
    });
    res.status(204).end();
  });
  return r;
}
