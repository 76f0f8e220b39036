import { AIMessage, type BaseMessage, HumanMessage, SystemMessage } from "@langchain/core/messages";
import { ChatOpenAI } from "@langchain/openai";
import { UnrecoverableError } from "bullmq";
import { z } from "zod";

export interface LlmConfig {
  apiKey?: string;
  baseURL?: string;
  model: string;
  timeoutMs: number;
  maxRetries: number;
}

/** A model that answers with an object of a given schema, or fails with the reason. */
export interface StructuredModel {
  generate<S extends z.ZodType>(schema: S, name: string, system: string, user: string): Promise<z.infer<S>>;
}

const text = (m: BaseMessage | undefined): string =>
  typeof m?.content === "string" ? m.content : JSON.stringify(m?.content ?? "");

function issuesOf<S extends z.ZodType>(schema: S, raw: string, parsed: unknown): string | undefined {
  let value = parsed;
  if (value === null || value === undefined) {
    try {
      value = JSON.parse(raw);
    } catch {
      return "the reply is not a JSON object";
    }
  }
  const r = schema.safeParse(value);
  if (r.success) return undefined;
  return r.error.issues
    .slice(0, 10)
    .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
    .join("; ");
}

/**
 * `ChatOpenAI` (any OpenAI-compatible server) with structured output validated by the zod
 * schema. Invalid output gets one repair turn that names the problems; still invalid, the
 * job fails without further retries (the reason is in the failed job). Transport errors
 * throw normally, so BullMQ retries them with backoff.
 */
export class ChatStructuredModel implements StructuredModel {
  private readonly chat: ChatOpenAI;

  constructor(cfg: LlmConfig) {
    this.chat = new ChatOpenAI({
      model: cfg.model,
      // Local compatible servers accept any key; the client library insists on one.
      apiKey: cfg.apiKey ?? "unused",
      timeout: cfg.timeoutMs,
      maxRetries: cfg.maxRetries,
      ...(cfg.baseURL ? { configuration: { baseURL: cfg.baseURL } } : {}),
    });
  }

  async generate<S extends z.ZodType>(
    schema: S,
    name: string,
    system: string,
    user: string,
  ): Promise<z.infer<S>> {
    // JSON mode with the schema in the prompt: every compatible server supports json_object,
    // and (unlike json_schema, which the client parses and throws on) a bad reply reaches us
    // raw, so validation, the repair turn and the failure reason stay here.
    const jsonSchema = z.toJSONSchema(schema, { io: "input" }) as Record<string, unknown>;
    const model = this.chat.withStructuredOutput(jsonSchema, { name, includeRaw: true, method: "jsonMode" });
    const messages: BaseMessage[] = [
      new SystemMessage(
        `${system}\n\nReply with only a JSON object matching this JSON schema:\n${JSON.stringify(jsonSchema)}`,
      ),
      new HumanMessage(user),
    ];
    const first = await model.invoke(messages);
    const firstIssues = issuesOf(schema, text(first.raw), first.parsed);
    if (!firstIssues) return schema.parse(first.parsed ?? JSON.parse(text(first.raw)));
    const second = await model.invoke([
      ...messages,
      new AIMessage(text(first.raw)),
      new HumanMessage(
        `That reply does not match the required schema (${firstIssues}). Reply again with only the corrected JSON object.`,
      ),
    ]);
    const secondIssues = issuesOf(schema, text(second.raw), second.parsed);
    if (!secondIssues) return schema.parse(second.parsed ?? JSON.parse(text(second.raw)));
    throw new UnrecoverableError(`model output invalid after one repair: ${secondIssues}`);
  }
}

export type EngineKind = "rules" | "llm";

/** `auto`: the model when a key is configured, else the deterministic rules. */
export function chooseEngine(mode: "auto" | "rules" | "llm", cfg: LlmConfig): EngineKind {
  if (mode === "rules") return "rules";
  if (mode === "llm") return "llm";
  return cfg.apiKey ? "llm" : "rules";
}
