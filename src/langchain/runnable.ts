import type { BaseMemory } from "@langchain/core/memory";
import { type Runnable, RunnableLambda } from "@langchain/core/runnables";

/**
 * LCEL: adds the memory's variables to the chain's input, so
 * `withMemory(memory).pipe(prompt).pipe(model)` sees `{input, memory}`.
 */
export function withMemory<I extends Record<string, unknown>>(
  memory: BaseMemory,
): Runnable<I, I & Record<string, unknown>> {
  return RunnableLambda.from(async (input: I) => ({
    ...input,
    ...(await memory.loadMemoryVariables(input)),
  })).withConfig({ runName: "CompanionMemory" });
}
