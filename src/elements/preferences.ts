import { z } from "zod";
import { LIMITS, shortText, stringList } from "./common.js";

const attributeValue = z.union([shortText(500), stringList(200, 50)], {
  message: "must be a string or an array of strings",
});

const RESERVED_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Element 2: advanced info / preferences. */
export const preferencesShape = {
  occupation: shortText(100).optional(),
  food_preferences: stringList().optional(),
  sport_preferences: stringList().optional(),
  hobby_preferences: stringList().optional(),
  languages: stringList(50, 30).optional(),
  travel_styles: stringList().optional(),
  attributes: z
    .preprocess(
      (v, ctx) => {
        // Special to JavaScript objects: zod drops an own `__proto__` key without a word, and the
        // DynamoDB marshaller takes a `constructor` key for a class, so a write carrying one would
        // be accepted and never stored. Checked on the raw input, before the record sees it.
        const reserved = v && typeof v === "object" ? Object.keys(v).filter((k) => RESERVED_KEYS.has(k)) : [];
        for (const k of reserved)
          ctx.addIssue({
            code: "custom",
            message: `the key ${k} is reserved`,
            input: v,
            params: { rule: "reserved_key" },
          });
        return v;
      },
      z.record(
        z.string().regex(/^[a-z0-9_]{1,64}$/, "keys must be 1-64 characters of a-z 0-9 _"),
        attributeValue,
      ),
    )
    .refine((r) => Object.keys(r).length <= LIMITS.attributes, {
      message: `at most ${LIMITS.attributes} attributes`,
      params: { rule: "too_big" },
    })
    .optional(),
  schema_version: z.number().int().min(1).max(1000).optional(),
};
export const Preferences = z.strictObject(preferencesShape);
export type Preferences = z.infer<typeof Preferences>;
