import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local server speaking Pinecone's data-plane protocol (the REST API the
 * @pinecone-database/pinecone client calls on an index host): upsert, query with namespace and
 * metadata filter, fetch, list, delete, describe_index_stats. Exact cosine, in memory. Its own
 * filter evaluator, written from Pinecone's documented operators, so the adapter is not tested
 * against its own code.
 */
export interface PineconeRequest {
  method: string;
  path: string;
  namespace: string;
  body?: Record<string, unknown>;
}

interface Rec {
  values: number[];
  metadata?: Record<string, unknown>;
}

export interface FakePinecone {
  host: string;
  apiKey: string;
  requests: PineconeRequest[];
  namespaces: Map<string, Map<string, Rec>>;
  /** The next `n` data-plane requests answer this status (outage drills). */
  failNext(n: number, status?: number): void;
  close(): Promise<void>;
}

function matches(
  meta: Record<string, unknown> | undefined,
  filter: Record<string, unknown> | undefined,
): boolean {
  if (!filter) return true;
  const m = meta ?? {};
  return Object.entries(filter).every(([k, cond]) => {
    if (k === "$and") return (cond as Record<string, unknown>[]).every((f) => matches(m, f));
    if (k === "$or") return (cond as Record<string, unknown>[]).some((f) => matches(m, f));
    const v = m[k];
    if (cond === null || typeof cond !== "object") return v === cond;
    return Object.entries(cond as Record<string, unknown>).every(([op, arg]) => {
      if (op === "$eq") return v === arg;
      if (op === "$ne") return v !== arg;
      if (op === "$in") return (arg as unknown[]).includes(v);
      if (op === "$nin") return !(arg as unknown[]).includes(v);
      if (op === "$exists") return (v !== undefined) === arg;
      if (op === "$gt") return typeof v === "number" && v > (arg as number);
      if (op === "$gte") return typeof v === "number" && v >= (arg as number);
      if (op === "$lt") return typeof v === "number" && v < (arg as number);
      if (op === "$lte") return typeof v === "number" && v <= (arg as number);
      throw new Error(`bad filter operator ${op}`);
    });
  });
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] ?? 0) * (b[i] ?? 0);
    na += (a[i] ?? 0) ** 2;
    nb += (b[i] ?? 0) ** 2;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString("utf8");
  return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
}

export async function startFakePinecone(opts: { dimension: number; apiKey?: string }): Promise<FakePinecone> {
  const apiKey = opts.apiKey ?? "pc-test-key";
  const namespaces = new Map<string, Map<string, Rec>>();
  const requests: PineconeRequest[] = [];
  let failing = 0;
  let failStatus = 503;
  const ns = (name: string) => {
    let n = namespaces.get(name);
    if (!n) {
      n = new Map();
      namespaces.set(name, n);
    }
    return n;
  };

  const server: Server = createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    try {
      const url = new URL(req.url ?? "/", "http://x");
      if (req.headers["api-key"] !== apiKey)
        return send(401, { error: { code: 16, message: "Invalid API Key" } });
      const body = req.method === "POST" ? await readJson(req) : undefined;
      const namespace = String(body?.namespace ?? url.searchParams.get("namespace") ?? "");
      requests.push({ method: req.method ?? "", path: url.pathname, namespace, ...(body ? { body } : {}) });
      if (failing > 0) {
        failing--;
        return send(failStatus, { error: { code: 14, message: "unavailable" } });
      }
      const usage = { readUnits: 1 };
      switch (`${req.method} ${url.pathname}`) {
        case "POST /vectors/upsert": {
          const vectors = body?.vectors as {
            id: string;
            values: number[];
            metadata?: Record<string, unknown>;
          }[];
          for (const v of vectors) {
            if (v.values.length !== opts.dimension) {
              return send(400, {
                code: 3,
                message: `Vector dimension ${v.values.length} does not match the dimension of the index ${opts.dimension}`,
              });
            }
            if (v.values.every((x) => x === 0)) {
              return send(400, {
                code: 3,
                message: "Dense vectors must contain at least one non-zero value",
              });
            }
          }
          for (const v of vectors) ns(namespace).set(v.id, { values: v.values, metadata: v.metadata });
          return send(200, { upsertedCount: vectors.length });
        }
        case "POST /query": {
          const vector = body?.vector as number[];
          const topK = Number(body?.topK);
          const filter = body?.filter as Record<string, unknown> | undefined;
          const matchesOut = [...(namespaces.get(namespace) ?? new Map<string, Rec>())]
            .filter(([, r]) => matches(r.metadata, filter))
            .map(([id, r]) => ({
              id,
              score: cosine(vector, r.values),
              ...(body?.includeValues ? { values: r.values } : { values: [] }),
              ...(body?.includeMetadata ? { metadata: r.metadata } : {}),
            }))
            .sort((a, b) => b.score - a.score)
            .slice(0, topK);
          return send(200, { results: [], matches: matchesOut, namespace, usage });
        }
        case "GET /vectors/fetch": {
          const out: Record<string, unknown> = {};
          for (const id of url.searchParams.getAll("ids")) {
            const r = namespaces.get(namespace)?.get(id);
            if (r) out[id] = { id, values: r.values, metadata: r.metadata };
          }
          return send(200, { vectors: out, namespace, usage });
        }
        case "GET /vectors/list": {
          const prefix = url.searchParams.get("prefix") ?? "";
          const limit = Number(url.searchParams.get("limit") ?? 100);
          const after = url.searchParams.get("paginationToken");
          const ids = [...(namespaces.get(namespace)?.keys() ?? [])]
            .filter((id) => id.startsWith(prefix))
            .sort()
            .filter((id) => !after || id > Buffer.from(after, "base64url").toString());
          const page = ids.slice(0, limit);
          const next =
            ids.length > limit ? Buffer.from(page.at(-1) as string).toString("base64url") : undefined;
          return send(200, {
            vectors: page.map((id) => ({ id })),
            ...(next ? { pagination: { next } } : {}),
            namespace,
            usage,
          });
        }
        case "POST /vectors/delete": {
          if (body?.deleteAll) {
            if (!namespaces.has(namespace)) return send(404, { code: 5, message: "Namespace not found" });
            namespaces.delete(namespace);
          } else if (body?.filter) {
            return send(400, {
              code: 3,
              message: "Serverless and Starter indexes do not support deleting with metadata filtering",
            });
          } else {
            for (const id of (body?.ids as string[]) ?? []) namespaces.get(namespace)?.delete(id);
            if (namespaces.get(namespace)?.size === 0) namespaces.delete(namespace);
          }
          return send(200, {});
        }
        case "POST /describe_index_stats": {
          const summary: Record<string, { vectorCount: number }> = {};
          let total = 0;
          for (const [name, n] of namespaces) {
            summary[name] = { vectorCount: n.size };
            total += n.size;
          }
          return send(200, {
            namespaces: summary,
            dimension: opts.dimension,
            indexFullness: 0,
            totalVectorCount: total,
            metric: "cosine",
            vectorType: "dense",
          });
        }
        default:
          return send(404, { code: 5, message: `no route ${req.method} ${url.pathname}` });
      }
    } catch (err) {
      send(500, { code: 13, message: (err as Error).message });
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `http://127.0.0.1:${port}`,
    apiKey,
    requests,
    namespaces,
    failNext(n, status = 503) {
      failing = n;
      failStatus = status;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
