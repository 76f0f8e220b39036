import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import dynalite from "dynalite";
import { StartupError } from "./redis.js";

export interface EmbeddedDynamo {
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts dynalite (DynamoDB API on LevelDB) with its files under dataDir. */
export async function startEmbeddedDynamo(dataDir: string, port: number): Promise<EmbeddedDynamo> {
  const path = resolve(dataDir, "dynamodb");
  mkdirSync(path, { recursive: true });
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((res, rej) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      rej(
        err.code === "EADDRINUSE"
          ? new StartupError(
              `port ${port} for the embedded DynamoDB is in use (another instance?): set DYNALITE_PORT and DATA_DIR, or DYNAMODB_ENDPOINT to share one`,
            )
          : err,
      ),
    );
    server.listen(port, "127.0.0.1", () => res());
  });
  const addr = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${addr.port}`,
    stop: () => new Promise<void>((res) => server.close(() => res())),
  };
}

export function createDynamo(endpoint: string | undefined, region: string): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region,
    ...(endpoint && endpoint !== "aws" ? { endpoint } : {}),
    // Local DynamoDB-compatible servers accept any key; a real endpoint uses the default credential chain.
    ...(endpoint?.startsWith("http://") && !process.env.AWS_ACCESS_KEY_ID
      ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } }
      : {}),
    maxAttempts: 3,
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: {
      removeUndefinedValues: true,
      convertEmptyValues: false,
      convertClassInstanceToMap: true,
    },
  });
}

/** Single-table design: pk = USER#<id>, sk = element key. Created on first start. */
export async function ensureTable(doc: DynamoDBDocumentClient, table: string): Promise<void> {
  try {
    await doc.send(new DescribeTableCommand({ TableName: table }));
    return;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  try {
    await doc.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
      }),
    );
  } catch (err) {
    if ((err as { name?: string }).name !== "ResourceInUseException") throw err;
  }
  for (let i = 0; i < 100; i++) {
    const d = await doc.send(new DescribeTableCommand({ TableName: table }));
    if (d.Table?.TableStatus === "ACTIVE") return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`table ${table} did not become ACTIVE`);
}
