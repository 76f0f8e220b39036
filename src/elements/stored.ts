import type { DocElement } from "./registry.js";

/**
 * A document as both tiers hold it. `fv` keeps, per field, the sequence number of the
 * write that last set it, so writes applied late or twice never undo newer ones.
 */
export interface StoredDoc {
  user_id: string;
  element: DocElement;
  id: string;
  data: Record<string, unknown>;
  fv: Record<string, number>;
  seq: number;
  rev: number;
  created_at: string;
  updated_at: string;
}

export const SELF = "self";
