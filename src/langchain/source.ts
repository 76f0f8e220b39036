import { resolveHits, type SemanticHit } from "../semantic/recall.js";
import type { EmbedElement } from "../semantic/vector-index.js";
import type { ContextBlock } from "../services/context.js";
import { loadTurnContext, type TurnContextDeps } from "../services/turn-context.js";

export interface ContextRequest {
  /** The user's message: adds the `relevant` section. */
  query?: string;
  maxChars?: number;
  k?: number;
}

export interface SearchRequest {
  k?: number;
  elements?: readonly EmbedElement[];
}

export type MemoryContext = Pick<ContextBlock, "text" | "sections" | "omitted" | "truncated"> & {
  relevant_error?: string;
};

/** Where the LangChain classes read memory from: this process, or the HTTP API of another. */
export interface MemorySource {
  context(user: string, req?: ContextRequest): Promise<MemoryContext>;
  search(user: string, q: string, req?: SearchRequest): Promise<SemanticHit[]>;
}

/** Same repositories, same code path as GET /context and GET /search (a companion app in this process). */
export class InProcessMemorySource implements MemorySource {
  constructor(private readonly deps: TurnContextDeps) {}

  context(user: string, req: ContextRequest = {}): Promise<MemoryContext> {
    return loadTurnContext(this.deps, user, req);
  }

  async search(user: string, q: string, req: SearchRequest = {}): Promise<SemanticHit[]> {
    const sem = this.deps.semantic;
    if (!sem) throw new Error("semantic memory is not configured in this process");
    const hits = await sem.search(user, q, {
      k: req.k ?? 10,
      ...(req.elements ? { elements: req.elements } : {}),
    });
    return resolveHits(user, hits, { reader: this.deps.reader, store: this.deps.store });
  }
}

export interface HttpMemoryClientOptions {
  /** e.g. http://localhost:3000 */
  baseUrl: string;
  /** A service key (MEMORY_API_KEYS) or a user token. */
  token: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export class MemoryApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A small client of this service's HTTP API, for a companion app running elsewhere. */
export class HttpMemoryClient implements MemorySource {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly o: HttpMemoryClientOptions) {
    this.base = o.baseUrl.replace(/\/+$/, "");
    this.fetchFn = o.fetch ?? fetch;
  }

  private async get<T>(path: string, params: Record<string, string | number | undefined>): Promise<T> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.set(k, String(v));
    const url = `${this.base}${path}${qs.size ? `?${qs}` : ""}`;
    const res = await this.fetchFn(url, {
      headers: { authorization: `Bearer ${this.o.token}`, accept: "application/json" },
      signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
    });
    const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    if (!res.ok) {
      throw new MemoryApiError(
        res.status,
        body.error?.code ?? "http_error",
        body.error?.message ?? `HTTP ${res.status}`,
      );
    }
    return body as T;
  }

  context(user: string, req: ContextRequest = {}): Promise<MemoryContext> {
    return this.get(`/v1/users/${encodeURIComponent(user)}/context`, {
      query: req.query,
      max_chars: req.maxChars,
      relevant_k: req.k,
    });
  }

  async search(user: string, q: string, req: SearchRequest = {}): Promise<SemanticHit[]> {
    const r = await this.get<{ hits: SemanticHit[] }>(`/v1/users/${encodeURIComponent(user)}/search`, {
      q,
      k: req.k,
      elements: req.elements?.join(","),
    });
    return r.hits;
  }
}
