import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local server speaking the OpenAI wire protocol (POST /v1/chat/completions and
 * /v1/embeddings, non-streaming), for tests of anything built on `@langchain/openai`.
 * Shared by every suite: pass your own handlers, or use the defaults.
 */
export interface ChatMessage {
  role: string;
  content: string | unknown;
}
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  response_format?: { type: string; json_schema?: { name?: string; schema?: unknown } };
  tools?: { type: string; function: { name: string } }[];
  [k: string]: unknown;
}
export type ChatReply =
  | { content: string }
  | { tool_call: { name: string; arguments: string } }
  | { status: number; body?: unknown };

export interface RecordedRequest {
  path: string;
  headers: IncomingMessage["headers"];
  body: any;
}

export interface OpenAiServerOptions {
  /** Called per chat request with the request and how many chat requests came before it. */
  chat?: (req: ChatRequest, n: number) => ChatReply | Promise<ChatReply>;
  /** Default: deterministic 8-dimension vectors from a hash of each input. */
  embeddings?: (inputs: string[], model: string) => number[][];
}

export interface OpenAiServer {
  /** Base URL including /v1, as OPENAI_BASE_URL expects. */
  url: string;
  requests: RecordedRequest[];
  chatRequests: () => ChatRequest[];
  setChat: (fn: NonNullable<OpenAiServerOptions["chat"]>) => void;
  close: () => Promise<void>;
}

/** The JSON the model was asked for, as a string (works for json_schema, json_object and tools). */
export function lastUserText(req: ChatRequest): string {
  const m = [...req.messages].reverse().find((x) => x.role === "user");
  return typeof m?.content === "string" ? m.content : JSON.stringify(m?.content ?? "");
}

function hashVector(text: string, dims = 8): number[] {
  const h = createHash("sha256").update(text).digest();
  const v = Array.from({ length: dims }, (_, i) => (h[i] ?? 0) / 255 - 0.5);
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

async function readBody(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString("utf8");
  return raw ? JSON.parse(raw) : undefined;
}

export async function startOpenAiServer(opts: OpenAiServerOptions = {}): Promise<OpenAiServer> {
  let chat = opts.chat ?? (() => ({ content: "{}" }));
  const embeddings = opts.embeddings ?? ((inputs: string[]) => inputs.map((t) => hashVector(t)));
  const requests: RecordedRequest[] = [];
  let chatCount = 0;

  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    readBody(req)
      .then(async (body) => {
        const path = (req.url ?? "").split("?")[0] ?? "";
        requests.push({ path, headers: req.headers, body });
        if (req.method === "POST" && path.endsWith("/chat/completions")) {
          if (body?.stream) return send(400, { error: { message: "streaming is not supported here" } });
          const reply = await chat(body as ChatRequest, chatCount++);
          if ("status" in reply) return send(reply.status, reply.body ?? { error: { message: "error" } });
          const message =
            "tool_call" in reply
              ? {
                  role: "assistant",
                  content: null,
                  tool_calls: [
                    {
                      id: `call_${chatCount}`,
                      type: "function",
                      function: { name: reply.tool_call.name, arguments: reply.tool_call.arguments },
                    },
                  ],
                }
              : { role: "assistant", content: reply.content };
          return send(200, {
            id: `chatcmpl-${chatCount}`,
            object: "chat.completion",
            created: Math.floor(Date.now() / 1000),
            model: body?.model ?? "local",
            choices: [
              {
                index: 0,
                message,
                finish_reason: "tool_call" in reply ? "tool_calls" : "stop",
                logprobs: null,
              },
            ],
            usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
          });
        }
        if (req.method === "POST" && path.endsWith("/embeddings")) {
          const inputs: string[] = Array.isArray(body?.input) ? body.input : [body?.input];
          const vectors = embeddings(inputs, body?.model ?? "local");
          // The official client asks for base64 (little-endian float32) unless told otherwise.
          const b64 = body?.encoding_format === "base64";
          return send(200, {
            object: "list",
            model: body?.model ?? "local",
            data: vectors.map((embedding, index) => ({
              object: "embedding",
              index,
              embedding: b64 ? Buffer.from(new Float32Array(embedding).buffer).toString("base64") : embedding,
            })),
            usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
          });
        }
        send(404, { error: { message: `no route ${req.method} ${path}` } });
      })
      .catch((err: Error) => send(500, { error: { message: err.message } }));
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    chatRequests: () =>
      requests.filter((r) => r.path.endsWith("/chat/completions")).map((r) => r.body as ChatRequest),
    setChat: (fn) => {
      chat = fn;
    },
    close: () =>
      new Promise<void>((res) => {
        server.close(() => res());
        server.closeAllConnections();
      }),
  };
}
