import type { Request } from "express";

/** One method + path pattern registered in an Express app, e.g. GET /v1/users/:user_id/goals/:item_id. */
export interface RouteInfo {
  method: string;
  path: string;
}

// Express 5 (router 2.x) layers: `rawPath` is documented for diagnostics; `route`/`handle.stack` are the tree.
interface Layer {
  rawPath?: unknown;
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

const join = (a: string, b: string) => {
  const p = `${a}/${b}`.replace(/\/+/g, "/");
  return p.length > 1 ? p.replace(/\/$/, "") : p;
};

/** Every route and every mount point (routers) of an Express app, full paths. */
export function walkApp(app: { router: unknown }): { routes: RouteInfo[]; mounts: string[] } {
  const routes: RouteInfo[] = [];
  const mounts: string[] = [];
  const visit = (stack: Layer[], base: string) => {
    for (const layer of stack) {
      if (layer.route && typeof layer.route.path === "string") {
        const path = join(base, layer.route.path);
        for (const [m, on] of Object.entries(layer.route.methods)) {
          if (on && m !== "_all") routes.push({ method: m.toUpperCase(), path });
        }
      } else if (typeof layer.rawPath === "string") {
        const path = join(base, layer.rawPath);
        if (layer.rawPath !== "/") mounts.push(path);
        if (Array.isArray(layer.handle?.stack)) visit(layer.handle.stack, path);
      }
    }
  };
  visit((app.router as { stack: Layer[] }).stack, "/");
  return { routes, mounts: [...new Set(mounts)] };
}

const toRegex = (pattern: string, end: boolean) =>
  new RegExp(
    `^${pattern
      .split("/")
      .map((seg) => (seg.startsWith(":") ? "[^/]+" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
      .join("/")}${end ? "/?$" : "(?:/|$)"}`,
  );

/**
 * Maps a request to the pattern it was served by, never to its raw path: user ids and
 * item ids stay out of metric labels and logs. Unknown paths under a mount become
 * `<mount>/*`; anything else is `unmatched`.
 */
export function routeLabeler(app: { router: unknown }): (req: Request) => string {
  let table: { re: RegExp; label: string }[] | undefined;
  const build = () => {
    const { routes, mounts } = walkApp(app);
    const params = (p: string) => p.split("/:").length;
    const exact = [...new Set(routes.map((r) => r.path))]
      .sort((a, b) => params(a) - params(b)) // static segments win over parameters
      .map((p) => ({ re: toRegex(p, true), label: p }));
    const prefixes = mounts
      .sort((a, b) => b.length - a.length)
      .map((p) => ({ re: toRegex(p, false), label: `${p}/*` }));
    return [...exact, ...prefixes];
  };
  return (req) => {
    table ??= build();
    const path = (req.originalUrl ?? req.url ?? "").split("?")[0] ?? "";
    return table.find((t) => t.re.test(path))?.label ?? "unmatched";
  };
}
