/** LangChain.js integration (README "Semantic memory"): memories, registry, LCEL runnable, retriever. */
export {
  BasicInfoMemory,
  CalendarMemory,
  ElementMemory,
  EventsMemory,
  FeedbackMemory,
  GoalsMemory,
  type MemoryFields,
  PreferencesMemory,
  SemanticRecallMemory,
  StateMemory,
  StateProfileMemory,
  splitSections,
  TodosMemory,
} from "./memory.js";
export { type ComposeOptions, CompositeMemory, MemoryRegistry } from "./registry.js";
export { MemoryRetriever, type MemoryRetrieverFields } from "./retriever.js";
export { withMemory } from "./runnable.js";
export {
  HttpMemoryClient,
  type HttpMemoryClientOptions,
  InProcessMemorySource,
  MemoryApiError,
  type MemorySource,
} from "./source.js";
