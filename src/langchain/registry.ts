import { BaseMemory, type InputValues, type MemoryVariables } from "@langchain/core/memory";
import {
  BasicInfoMemory,
  CalendarMemory,
  type ElementMemory,
  FeedbackMemory,
  GoalsMemory,
  type MemoryFields,
  messageOf,
  PreferencesMemory,
  SECTION_HEADINGS,
  type SectionName,
  StateProfileMemory,
  splitSections,
  TodosMemory,
} from "./memory.js";

type MemoryClass = new (fields: MemoryFields) => ElementMemory;

export interface ComposeOptions extends MemoryFields {
  /** Adds the `relevant` section for the chain's input (one vector query per turn). Default true. */
  semantic?: boolean;
}

/**
 * Several memories as one: a single context request per turn (not one per memory), their
 * sections in the block's own order, under one variable (`memory`). Without `parts` it is
 * the whole block exactly as GET /context renders it. Read-only like its parts.
 */
export class CompositeMemory extends BaseMemory {
  constructor(
    private readonly o: ComposeOptions,
    readonly parts?: ElementMemory[],
  ) {
    super();
  }

  get memoryKeys(): string[] {
    return [this.o.memoryKey ?? "memory"];
  }

  async loadMemoryVariables(values: InputValues): Promise<MemoryVariables> {
    const query = this.o.semantic === false ? undefined : messageOf(values, this.o.inputKey);
    const block = await this.o.source.context(this.o.userId, {
      maxChars: this.o.maxChars,
      ...(query ? { query } : {}),
    });
    const key = this.memoryKeys[0] as string;
    if (!this.parts) return { [key]: block.text };
    const wanted = new Set<SectionName>(this.parts.map((p) => p.section));
    wanted.add("relevant");
    const sections = splitSections(block.text);
    const text = (Object.keys(SECTION_HEADINGS) as SectionName[])
      .filter((n) => wanted.has(n) && sections.has(n))
      .map((n) => sections.get(n))
      .join("\n\n");
    return { [key]: text };
  }

  async saveContext(_input: InputValues, _output: Record<string, unknown>): Promise<void> {}
}

/** The design's `memory_registry`: memory classes by name, composed into the chain's memory. */
export class MemoryRegistry {
  private readonly classes = new Map<string, MemoryClass>();

  static withDefaults(): MemoryRegistry {
    return new MemoryRegistry()
      .register("basic_info", BasicInfoMemory)
      .register("preferences", PreferencesMemory)
      .register("goals", GoalsMemory)
      .register("todos", TodosMemory)
      .register("calendar", CalendarMemory)
      .register("state_profile", StateProfileMemory)
      .register("feedback", FeedbackMemory);
  }

  register(name: string, cls: MemoryClass): this {
    this.classes.set(name, cls);
    return this;
  }

  get names(): string[] {
    return [...this.classes.keys()];
  }

  create(name: string, fields: MemoryFields): ElementMemory {
    const cls = this.classes.get(name);
    if (!cls) throw new Error(`unknown memory ${name}; registered: ${this.names.join(", ")}`);
    return new cls(fields);
  }

  /** The whole block, or only the sections of the memories `names` picks (plus `relevant`). */
  compose(o: ComposeOptions, names?: readonly string[]): CompositeMemory {
    return new CompositeMemory(
      o,
      names?.map((n) => this.create(n, o)),
    );
  }
}
