import { z } from "zod";
import { isoDate, shortText } from "../../elements/common.js";

export const PREF_LIST_FIELDS = [
  "food_preferences",
  "sport_preferences",
  "hobby_preferences",
  "languages",
  "travel_styles",
] as const;
export type PrefField = (typeof PREF_LIST_FIELDS)[number] | "occupation";

const confidence = z.number().min(0).max(1);

/** What an utterance yields; the LLM's structured output is validated by this schema. */
export const Extraction = z.object({
  preferences: z
    .array(
      z.object({
        field: z.enum([...PREF_LIST_FIELDS, "occupation"]),
        value: shortText(200),
        confidence,
      }),
    )
    .max(20),
  todos: z.array(z.object({ text: shortText(1000), due_date: isoDate().nullish(), confidence })).max(10),
  goals: z.array(z.object({ title: shortText(200), target_date: isoDate().nullish(), confidence })).max(10),
});
export type Extraction = z.infer<typeof Extraction>;
