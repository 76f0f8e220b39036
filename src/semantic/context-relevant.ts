import type { Line, Section } from "../services/context.js";
import type { SemanticHit } from "./recall.js";

type Obj = Record<string, unknown>;

/** Where an element's items already appear in the structured sections. */
const SHOWN_IN: Record<string, string> = {
  preferences: "preferences",
  goal: "goals",
  todo: "todos",
  event: "events",
};

// Between overdue to-dos and the plain lists: hits for this very message are worth more than
// the ordinary lists, less than who the user is. Later (weaker) hits go first under max_chars.
const RANK = 24;
const PROTECTED_RANK = 10;

const str = (v: unknown) => (Array.isArray(v) ? v.join(", ") : String(v ?? ""));

/** One hit as a prompt line (also the page content of the LangChain retriever's documents). */
export function renderHit(h: SemanticHit): string {
  const it = h.item;
  switch (h.element) {
    case "goal":
      return `[goal, ${str(it.status ?? "active")}] ${str(it.title)}${it.target_date ? ` (target ${str(it.target_date)})` : ""}`;
    case "todo":
      return `[to-do, ${str(it.status ?? "pending")}] ${str(it.text)}${it.due_date ? ` (due ${str(it.due_date)})` : ""}`;
    case "event":
      return `[event] ${str(it.start)}: ${str(it.summary)}${it.location ? ` @ ${str(it.location)}` : ""}`;
    case "feedback":
      return `[earlier feedback, rated ${str(it.rating)}/5] ${str(it.comments)}`;
    case "preferences":
      return `[preference] ${str(it.field)
        .replace(/^attributes\./, "")
        .replace(/_/g, " ")}: ${str(it.value)}`;
  }
}

/**
 * The `relevant` section: semantic hits not already shown in a structured section. A hit that
 * is already shown is not repeated; its line is protected instead, so max_chars drops it late.
 */
export function relevantSection(sections: Section[], hits: SemanticHit[]): { section: Section; kept: Obj[] } {
  const kept: Obj[] = [];
  const lines: Line[] = [];
  hits.forEach((h, i) => {
    const shownIn = sections.find((s) => s.name === SHOWN_IN[h.element]);
    const line = shownIn?.lines.find((l) => l.key === h.item_id);
    if (line) {
      line.rank = Math.min(line.rank, PROTECTED_RANK + i * 0.01);
      return;
    }
    const entry: Obj = { element: h.element, item_id: h.item_id, score: h.score, item: h.item };
    kept.push(entry);
    lines.push({
      text: `- ${renderHit(h)}`,
      rank: RANK + i * 0.5,
      key: `${h.element}:${h.item_id}`,
      drop: () => kept.splice(kept.indexOf(entry), 1),
    });
  });
  return { section: { name: "relevant", title: "Relevant to this message", lines }, kept };
}
