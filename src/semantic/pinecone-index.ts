import { Pinecone } from "@pinecone-database/pinecone";
import { IndexIdentityError } from "./local-index.js";
import type { QueryOptions, VectorHit, VectorIndex, VectorMeta, VectorRecord } from "./vector-index.js";

export interface PineconeOptions {
  apiKey: string;
  /** Index name; the host is resolved through the control plane unless `host` is given. */
  index?: string;
  host?: string;
  dimensions: number;
  maxRetries?: number;
}

// Pinecone's request limits: 1000 ids per fetch/delete, 2 MB per upsert (about 100 vectors of 1536 floats).
const UPSERT_BATCH = 100;
const ID_BATCH = 1000;

/** One namespace per user, record id `<element>:<item_id>`, metadata `{element, item_id, text_hash, updated_at}`. */
export class PineconeVectorIndex implements VectorIndex {
  readonly kind = "pinecone" as const;
  private readonly client: Pinecone;
  private readonly target: { name?: string; host?: string };

  constructor(private readonly o: PineconeOptions) {
    this.client = new Pinecone({ apiKey: o.apiKey, maxRetries: o.maxRetries ?? 2 });
    if (!o.index && !o.host) throw new Error("PINECONE_INDEX or PINECONE_HOST must be set");
    this.target = { ...(o.index ? { name: o.index } : {}), ...(o.host ? { host: o.host } : {}) };
  }

  private ns(user: string) {
    return this.client.index<Record<string, string>>(this.target as { host: string }).namespace(user);
  }

  async init(): Promise<void> {
    const stats = await this.client.index(this.target as { host: string }).describeIndexStats();
    if (stats.dimension !== undefined && stats.dimension !== this.o.dimensions) {
      throw new IndexIdentityError(
        `Pinecone index has ${stats.dimension} dimensions; the embedder makes ${this.o.dimensions}`,
      );
    }
  }

  async ping(): Promise<void> {
    await this.client.index(this.target as { host: string }).describeIndexStats();
  }

  async upsert(user: string, records: VectorRecord[]): Promise<void> {
    const ns = this.ns(user);
    for (let i = 0; i < records.length; i += UPSERT_BATCH) {
      await ns.upsert({
        records: records.slice(i, i + UPSERT_BATCH).map((r) => ({
          id: r.id,
          values: r.values,
          metadata: { ...r.metadata },
        })),
      });
    }
  }

  async fetch(user: string, ids: string[]): Promise<Map<string, VectorMeta>> {
    const out = new Map<string, VectorMeta>();
    const ns = this.ns(user);
    for (let i = 0; i < ids.length; i += ID_BATCH) {
      const r = await ns.fetch({ ids: ids.slice(i, i + ID_BATCH) });
      for (const [id, rec] of Object.entries(r.records ?? {})) {
        if (rec?.metadata) out.set(id, rec.metadata as unknown as VectorMeta);
      }
    }
    return out;
  }

  async listIds(user: string, prefix = ""): Promise<string[]> {
    const ns = this.ns(user);
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await ns.listPaginated({
        prefix,
        limit: 100,
        ...(token ? { paginationToken: token } : {}),
      });
      for (const v of page.vectors ?? []) if (v.id) out.push(v.id);
      token = page.pagination?.next;
    } while (token);
    return out;
  }

  async delete(user: string, ids: string[]): Promise<void> {
    const ns = this.ns(user);
    for (let i = 0; i < ids.length; i += ID_BATCH) await ns.deleteMany({ ids: ids.slice(i, i + ID_BATCH) });
  }

  async query(user: string, vector: number[], opts: QueryOptions): Promise<VectorHit[]> {
    const r = await this.ns(user).query({
      vector,
      topK: opts.k,
      includeMetadata: true,
      includeValues: false,
      ...(opts.filter ? { filter: opts.filter } : {}),
    });
    return (r.matches ?? [])
      .filter((m) => m.metadata)
      .map((m) => ({ id: m.id, score: m.score ?? 0, metadata: m.metadata as unknown as VectorMeta }));
  }

  async deleteUser(user: string): Promise<void> {
    // Deleting every id listed works on serverless and pod indexes alike (deleteAll 404s on an absent namespace).
    const ids = await this.listIds(user);
    if (ids.length) await this.delete(user, ids);
  }
}
