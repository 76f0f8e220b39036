import { Router } from "express";
import { eraseUser, exportUser } from "../../services/user-data.js";
import type { ApiDeps } from "../deps.js";
import { userOf } from "../params.js";
import { parseWriteOptions } from "../write.js";

/** GET /v1/users/:user_id/export and DELETE /v1/users/:user_id (mounted on the user router). */
export function userDataRoutes(deps: ApiDeps): Router {
  const r = Router({ mergeParams: true });

  r.get("/export", async (req, res) => {
    const doc = await exportUser(deps.tiers, userOf(req), deps.now);
    res.setHeader("Cache-Control", "no-store");
    res.json(doc);
  });

  r.delete("/", async (req, res) => {
    // Erasure always completes before answering (?wait=false too); the options are still checked.
    parseWriteOptions(req);
    res.json(await eraseUser(deps.tiers, userOf(req), { now: deps.now }));
  });
  return r;
}
