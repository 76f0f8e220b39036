/**
 * Turns texts into vectors. `identity` names the model and dimension: the vector index keeps
 * vectors of one identity apart from every other, so changing models never mixes them.
 */
export interface Embedder {
  readonly identity: string;
  readonly dimensions: number;
  /** Whether scores reflect meaning (a model) or shared words only (the lexical default). */
  readonly kind: "lexical" | "model";
  embedDocuments(texts: string[]): Promise<number[][]>;
  embedQuery(text: string): Promise<number[]>;
}

export const isZero = (v: readonly number[]) => v.every((x) => x === 0);
