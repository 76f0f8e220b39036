/** What the semantic tier embeds; `feedback` is the comment of an episodic feedback record. */
export const EMBED_ELEMENTS = ["preferences", "goal", "todo", "event", "feedback"] as const;
export type EmbedElement = (typeof EMBED_ELEMENTS)[number];

/** Metadata kept with every vector (the Pinecone record layout; the local index keeps the same). */
export interface VectorMeta {
  element: EmbedElement;
  item_id: string;
  /** Hash of embedder identity + embedded text: equal hash = nothing to re-embed. */
  text_hash: string;
  updated_at: string;
}

export interface VectorRecord {
  /** `<element>:<item_id>` */
  id: string;
  values: number[];
  metadata: VectorMeta;
}

export interface VectorHit {
  id: string;
  score: number;
  metadata: VectorMeta;
}

type Scalar = string | number | boolean;
export type FieldFilter =
  | Scalar
  | {
      $eq?: Scalar;
      $ne?: Scalar;
      $gt?: number;
      $gte?: number;
      $lt?: number;
      $lte?: number;
      $in?: Scalar[];
      $nin?: Scalar[];
      $exists?: boolean;
    };
/** Pinecone's metadata filter language; the local index evaluates the same operators. */
export type MetadataFilter = { $and?: MetadataFilter[]; $or?: MetadataFilter[] } & {
  [field: string]: FieldFilter | MetadataFilter[] | undefined;
};

export interface QueryOptions {
  k: number;
  filter?: MetadataFilter;
}

/** One namespace per user; ids are `<element>:<item_id>`. */
export interface VectorIndex {
  readonly kind: "local" | "pinecone";
  /** Fails when the index cannot hold this embedder's vectors (dimension or model mismatch). */
  init(): Promise<void>;
  upsert(user: string, records: VectorRecord[]): Promise<void>;
  /** Metadata of the ids that exist (missing ids are absent from the map). */
  fetch(user: string, ids: string[]): Promise<Map<string, VectorMeta>>;
  listIds(user: string, prefix?: string): Promise<string[]>;
  delete(user: string, ids: string[]): Promise<void>;
  query(user: string, vector: number[], opts: QueryOptions): Promise<VectorHit[]>;
  deleteUser(user: string): Promise<void>;
  /** Readiness probe. */
  ping(): Promise<void>;
  close?(): Promise<void>;
}

export const vectorId = (element: EmbedElement, itemId: string) => `${element}:${itemId}`;

function fieldMatches(value: unknown, cond: FieldFilter): boolean {
  if (typeof cond !== "object" || cond === null) return value === cond;
  for (const [op, arg] of Object.entries(cond)) {
    const ok = (() => {
      switch (op) {
        case "$eq":
          return value === arg;
        case "$ne":
          return value !== arg;
        case "$gt":
          return typeof value === "number" && value > (arg as number);
        case "$gte":
          return typeof value === "number" && value >= (arg as number);
        case "$lt":
          return typeof value === "number" && value < (arg as number);
        case "$lte":
          return typeof value === "number" && value <= (arg as number);
        case "$in":
          return (arg as Scalar[]).includes(value as Scalar);
        case "$nin":
          return !(arg as Scalar[]).includes(value as Scalar);
        case "$exists":
          return (value !== undefined) === arg;
        default:
          throw new Error(`unsupported filter operator ${op}`);
      }
    })();
    if (!ok) return false;
  }
  return true;
}

/** Evaluates a Pinecone-style filter against one record's metadata. */
export function matchesFilter(meta: Record<string, unknown>, filter: MetadataFilter | undefined): boolean {
  if (!filter) return true;
  for (const [key, cond] of Object.entries(filter)) {
    if (cond === undefined) continue;
    if (key === "$and") {
      if (!(cond as MetadataFilter[]).every((f) => matchesFilter(meta, f))) return false;
    } else if (key === "$or") {
      if (!(cond as MetadataFilter[]).some((f) => matchesFilter(meta, f))) return false;
    } else if (!fieldMatches(meta[key], cond as FieldFilter)) return false;
  }
  return true;
}

export function elementFilter(elements: readonly EmbedElement[] | undefined): MetadataFilter | undefined {
  return elements && elements.length > 0 ? { element: { $in: [...elements] } } : undefined;
}
