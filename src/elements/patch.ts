import { z } from "zod";

/**
 * PATCH body for a strict object schema: every field optional; optional fields may be
 * null (= remove), required ones may not. Empty patches are refused.
 */
export function patchOf<T extends z.ZodRawShape>(shape: T, required: readonly (keyof T)[] = []) {
  const out: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(shape)) {
    const inner =
      v instanceof z.ZodOptional || v instanceof z.ZodDefault ? (v.unwrap() as z.ZodType) : (v as z.ZodType);
    out[k] = required.includes(k) ? inner.optional() : inner.nullable().optional();
  }
  return z.strictObject(out).refine((o) => Object.keys(o).length > 0, {
    message: "must set at least one field",
    params: { rule: "empty_patch" },
  });
}
