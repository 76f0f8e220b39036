import { BaseMemory, getInputValue, type InputValues, type MemoryVariables } from "@langchain/core/memory";
import type { MemoryContext, MemorySource } from "./source.js";

/** Section names of the context block (src/services/context.ts) and the headings it renders them under. */
export const SECTION_HEADINGS = {
  basic_info: "About the user",
  preferences: "Preferences",
  current_state: "Current state",
  goals: "Active goals",
  todos: "Pending to-dos",
  events: "Upcoming events",
  digest: "Today's digest",
  feedback_summary: "How the user likes responses",
  relevant: "Relevant to this message",
} as const;
export type SectionName = keyof typeof SECTION_HEADINGS;

/** Splits the rendered block into its `## Heading` sections, keyed by section name. */
export function splitSections(text: string): Map<SectionName, string> {
  const out = new Map<SectionName, string>();
  for (const part of text.split(/\n\n(?=## )/)) {
    const heading = part.match(/^## (.*)$/m)?.[1] ?? "";
    const name = (Object.keys(SECTION_HEADINGS) as SectionName[]).find((n) =>
      heading.startsWith(SECTION_HEADINGS[n]),
    );
    if (name) out.set(name, part);
  }
  return out;
}

/** The user's message among a chain's inputs: `inputKey`, the only input, or `input`. */
export function messageOf(values: InputValues, inputKey?: string): string | undefined {
  const keys = Object.keys(values).filter((k) => k !== "stop");
  if (keys.length === 0) return undefined;
  const v = inputKey || keys.length === 1 ? getInputValue(values, inputKey) : values.input;
  return typeof v === "string" && v.trim() ? v : undefined;
}

export interface MemoryFields {
  source: MemorySource;
  userId: string;
  /** Variable the block is returned under; each class has its own default. */
  memoryKey?: string;
  /** Which input holds the user's message (when the chain has several inputs). */
  inputKey?: string;
  maxChars?: number;
}

/**
 * One element of the design's memory as a LangChain memory. Read-only: `saveContext` records
 * nothing, because memory is written through the API's validated routes, not from chat turns.
 */
export abstract class ElementMemory extends BaseMemory {
  abstract readonly section: SectionName;
  protected readonly fields: MemoryFields;

  constructor(fields: MemoryFields) {
    super();
    this.fields = fields;
  }

  protected abstract get defaultKey(): string;

  get memoryKey(): string {
    return this.fields.memoryKey ?? this.defaultKey;
  }

  get memoryKeys(): string[] {
    return [this.memoryKey];
  }

  protected load(_values: InputValues): Promise<MemoryContext> {
    return this.fields.source.context(this.fields.userId, { maxChars: this.fields.maxChars });
  }

  async loadMemoryVariables(values: InputValues): Promise<MemoryVariables> {
    const block = await this.load(values);
    return { [this.memoryKey]: splitSections(block.text).get(this.section) ?? "" };
  }

  async saveContext(_input: InputValues, _output: Record<string, unknown>): Promise<void> {}
}

export class BasicInfoMemory extends ElementMemory {
  readonly section = "basic_info";
  protected get defaultKey() {
    return "basic_info";
  }
}
export class PreferencesMemory extends ElementMemory {
  readonly section = "preferences";
  protected get defaultKey() {
    return "preferences";
  }
}
export class GoalsMemory extends ElementMemory {
  readonly section = "goals";
  protected get defaultKey() {
    return "goals";
  }
}
export class TodosMemory extends ElementMemory {
  readonly section = "todos";
  protected get defaultKey() {
    return "todos";
  }
}
/** The design's `CalendarMemory`: upcoming events. */
export class CalendarMemory extends ElementMemory {
  readonly section = "events";
  protected get defaultKey() {
    return "events";
  }
}
/** The design's `StateProfileMemory` (RedisJSONMemory): mood, focus, wins, losses. */
export class StateProfileMemory extends ElementMemory {
  readonly section = "current_state";
  protected get defaultKey() {
    return "current_state";
  }
}
/** The design's feedback memory: the semantic summary of how the user likes responses. */
export class FeedbackMemory extends ElementMemory {
  readonly section = "feedback_summary";
  protected get defaultKey() {
    return "feedback";
  }
}
/** The design's `VectorStoreMemory`: hits for the current message across the embedded elements. */
export class SemanticRecallMemory extends ElementMemory {
  readonly section = "relevant";
  protected get defaultKey() {
    return "relevant";
  }
  protected override load(values: InputValues): Promise<MemoryContext> {
    const query = messageOf(values, this.fields.inputKey);
    return this.fields.source.context(this.fields.userId, {
      maxChars: this.fields.maxChars,
      ...(query ? { query } : {}),
    });
  }
}

export { CalendarMemory as EventsMemory, StateProfileMemory as StateMemory };
