import type { z } from "zod";
import { type FieldIssue, ValidationError } from "../errors.js";

export function toIssues(err: z.ZodError, prefix = ""): FieldIssue[] {
  return err.issues.map((i) => {
    const path = [...i.path.map(String)];
    if (i.code === "unrecognized_keys") {
      return {
        field: [prefix, ...path, i.keys.join(",")].filter(Boolean).join("."),
        rule: "unknown_field",
        message: i.message,
      };
    }
    return {
      field: [prefix, ...path].filter(Boolean).join(".") || "(body)",
      // A custom check may name its rule (params.rule); zod alone would only say "custom".
      rule: (i.code === "custom" && typeof i.params?.rule === "string" ? i.params.rule : i.code) as string,
      message: i.message,
    };
  });
}

/** Parses or throws a 400 naming each field and rule. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, prefix = ""): z.infer<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw new ValidationError(toIssues(r.error, prefix));
  return r.data;
}
