import { createHash } from "node:crypto";
import type { FeedbackRecord } from "../repositories/dynamo-store.js";
import type { EmbedElement } from "./vector-index.js";

/** One text to embed: preferences give one per field, the other elements one per item. */
export interface EmbedText {
  element: EmbedElement;
  item_id: string;
  text: string;
  updated_at: string;
}

type Data = Record<string, unknown>;

const PREFERENCE_LABELS: Record<string, string> = {
  occupation: "Occupation",
  food_preferences: "Food preferences",
  sport_preferences: "Sport preferences",
  hobby_preferences: "Hobbies",
  languages: "Languages",
  travel_styles: "Travel styles",
};

const joined = (v: unknown) => (Array.isArray(v) ? v.map(String).join("; ") : typeof v === "string" ? v : "");
const lines = (...parts: (string | undefined | false)[]) =>
  parts.filter((p) => typeof p === "string" && p.trim() !== "").join("\n");

/** Preference item ids: the field name, or `attributes.<key>` for free-form attributes. */
export function preferenceTexts(data: Data, updatedAt: string): EmbedText[] {
  const out: EmbedText[] = [];
  for (const [field, label] of Object.entries(PREFERENCE_LABELS)) {
    const v = joined(data[field]);
    if (v)
      out.push({ element: "preferences", item_id: field, text: `${label}: ${v}`, updated_at: updatedAt });
  }
  for (const [k, val] of Object.entries((data.attributes as Data | undefined) ?? {})) {
    const v = joined(val);
    if (v) {
      out.push({
        element: "preferences",
        item_id: `attributes.${k}`,
        text: `${k.replace(/_/g, " ")}: ${v}`,
        updated_at: updatedAt,
      });
    }
  }
  return out;
}

/** The value a preference item id points at, or undefined when the field is gone. */
export function preferenceValue(data: Data, itemId: string): unknown {
  if (itemId.startsWith("attributes.")) return (data.attributes as Data | undefined)?.[itemId.slice(11)];
  return itemId in PREFERENCE_LABELS ? data[itemId] : undefined;
}

/** Only the fields that carry meaning: a change of priority, status or date re-embeds nothing. */
export function itemText(element: "goal" | "todo" | "event", data: Data): string {
  switch (element) {
    case "goal":
      return lines(
        `Goal: ${joined(data.title)}`,
        joined(data.description),
        data.category ? `Category: ${joined(data.category)}` : undefined,
      );
    case "todo":
      return lines(
        `To-do: ${joined(data.text)}`,
        Array.isArray(data.notes) && data.notes.length ? `Notes: ${joined(data.notes)}` : undefined,
        Array.isArray(data.tags) && data.tags.length ? `Tags: ${joined(data.tags)}` : undefined,
      );
    case "event":
      return lines(
        `Event: ${joined(data.summary)}`,
        joined(data.description),
        data.location ? `Location: ${joined(data.location)}` : undefined,
      );
  }
}

export function feedbackText(f: Pick<FeedbackRecord, "comments" | "tags">): string | undefined {
  const c = f.comments?.trim();
  if (!c) return undefined;
  return lines(`Feedback on a response: ${c}`, f.tags?.length ? `Tags: ${f.tags.join("; ")}` : undefined);
}

/** The embedder is part of the hash, so a model change re-embeds everything on reindex. */
export function textHash(embedderIdentity: string, text: string): string {
  return createHash("sha256").update(`${embedderIdentity}\n${text}`).digest("hex").slice(0, 32);
}
