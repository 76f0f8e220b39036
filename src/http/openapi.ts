import type { RequestHandler } from "express";
import { z } from "zod";
import { OPERATIONS, type OperationSpec, SCHEMAS } from "./openapi-routes.js";

type Json = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function jsonSchema(schema: z.ZodType): Json {
  // Request side of each schema ("input"): what a client sends. Refinements are not representable
  // in JSON Schema and are checked by the server (400 names the field and rule).
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Json;
  return rest;
}

const ERRORS: Record<number, string> = {
  400: "Invalid request: details name each field and rule",
  401: "Missing or invalid bearer token",
  403: "This token may not act on this user",
  404: "Not found",
  413: "Body too large",
  429: "Rate limit reached: retry after the Retry-After header's seconds",
  500: "The write failed",
  503: "A dependency is unavailable; retry later",
};

function operation(op: OperationSpec): Json {
  const params: Json[] = [];
  for (const m of op.path.matchAll(/:([A-Za-z0-9_]+)/g)) {
    params.push({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string", pattern: "^[A-Za-z0-9_-]{1,80}$" },
    });
  }
  if (op.query) {
    for (const [name, field] of Object.entries(op.query.shape)) {
      params.push({
        name,
        in: "query",
        required: !(field as z.ZodType).safeParse(undefined).success,
        schema: jsonSchema(field as z.ZodType),
      });
    }
  }
  if (op.write) {
    params.push({
      name: "wait",
      in: "query",
      required: false,
      description: "false: answer 202 with the job at once instead of waiting for the write",
      schema: { type: "string", enum: ["true", "false"] },
    });
    params.push({
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description: "a retried request with the same key is applied once",
      schema: { type: "string", maxLength: 128 },
    });
  }
  const responses: Json = {};
  for (const [status, schema] of Object.entries(op.ok)) {
    responses[status] = {
      description: "OK",
      ...(schema ? { content: { "application/json": { schema: ref(schema) } } } : {}),
    };
  }
  if (op.write) {
    responses[202] = {
      description: "Queued: poll status_url",
      content: { "application/json": { schema: ref("Queued") } },
    };
  }
  const errorCodes =
    op.auth === false ? [503] : [400, 401, 403, 404, 429, 503, ...(op.write ? [413, 500] : [])];
  if (op.path === "/readyz")
    responses[503] = {
      description: ERRORS[503],
      content: { "application/json": { schema: ref("Readiness") } },
    };
  else
    for (const c of errorCodes)
      responses[c] = { description: ERRORS[c], content: { "application/json": { schema: ref("Error") } } };
  return {
    operationId: `${op.method.toLowerCase()}${op.path.replace(/[/:{}_-]+(\w)/g, (_m, c: string) => c.toUpperCase())}`,
    summary: op.summary,
    ...(op.when ? { description: `Only present when ${op.when}.` } : {}),
    tags: [op.tag],
    ...(params.length ? { parameters: params } : {}),
    ...(op.body
      ? { requestBody: { required: true, content: { "application/json": { schema: ref(op.body) } } } }
      : {}),
    responses,
    ...(op.auth === false ? { security: [] } : {}),
  };
}

export const toOpenApiPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

/** OpenAPI 3.1 document built from the zod schemas the routes validate with. */
export function buildOpenApi(): Json {
  const paths: Record<string, Json> = {};
  for (const op of OPERATIONS) {
    const p = toOpenApiPath(op.path);
    paths[p] ??= {};
    const item = paths[p];
    const m = op.method.toLowerCase();
    if (item[m]) throw new Error(`openapi-routes.ts lists ${op.method} ${op.path} twice`);
    item[m] = operation(op);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Companion memory API",
      version: "1",
      description: "Long-term memory for a companion agent. Field names are snake_case.",
    },
    servers: [{ url: "http://localhost:3000" }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description:
            "a service key from MEMORY_API_KEYS (any user), or a user token: JWT HS256 signed with MEMORY_JWT_SECRET, sub = user_id, exp required (own user only)",
        },
      },
      schemas: Object.fromEntries(Object.entries(SCHEMAS).map(([n, s]) => [n, jsonSchema(s)])),
    },
  };
}

export function openApiHandler(): RequestHandler {
  let doc: Json | undefined;
  return (_req, res) => {
    doc ??= buildOpenApi();
    res.json(doc);
  };
}
