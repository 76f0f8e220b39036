import { type DynamoDBDocumentClient, QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { createDynamo } from "../../src/infra/dynamo.js";
import type { TestSystem } from "./system.js";

/** Every key under `prefix:`, sorted. */
export async function scanKeys(redis: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    out.push(...batch);
  } while (cursor !== "0");
  return [...new Set(out)].sort();
}

export interface RedisEntry {
  type: string;
  /** hash: object; zset: [member, score, …] in rank order; list: in order; set: sorted; stream: XRANGE. */
  value: unknown;
}

/** TYPE of every key, then the read of that type, in two pipelined round trips. */
export async function readRedis(redis: Redis, keys: readonly string[]): Promise<Map<string, RedisEntry>> {
  const out = new Map<string, RedisEntry>();
  if (keys.length === 0) return out;
  const typed = await redis.pipeline(keys.map((k) => ["type", k])).exec();
  const types = keys.map((_, i) => {
    const [err, type] = typed?.[i] ?? [new Error("no reply"), null];
    if (err) throw err;
    return String(type);
  });
  const p = redis.pipeline();
  keys.forEach((k, i) => {
    const type = types[i];
    if (type === "string") p.get(k);
    else if (type === "hash") p.hgetall(k);
    else if (type === "zset") p.zrange(k, "0", "-1", "WITHSCORES");
    else if (type === "list") p.lrange(k, 0, -1);
    else if (type === "set") p.smembers(k);
    else if (type === "stream") p.xrange(k, "-", "+");
    else if (type === "none")
      p.exists(k); // gone between SCAN and TYPE: recorded as absent
    else throw new Error(`${k}: no reader for Redis type ${type}`);
  });
  const read = await p.exec();
  keys.forEach((k, i) => {
    const [err, value] = read?.[i] ?? [new Error("no reply"), null];
    if (err) throw err;
    const type = types[i] as string;
    if (type === "none") return;
    out.set(k, { type, value: type === "set" ? [...(value as string[])].sort() : value });
  });
  return out;
}

/** Every item of the table, whole, keyed `pk|sk`. */
export async function readDynamo(
  db: DynamoDBDocumentClient,
  table: string,
): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  let start: Record<string, unknown> | undefined;
  do {
    const r = await db.send(
      new ScanCommand({ TableName: table, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    for (const item of r.Items ?? []) out.set(`${item.pk}|${item.sk}`, item);
    start = r.LastEvaluatedKey;
  } while (start);
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Every key under the system's key and queue prefixes with its whole content as text. */
export async function dumpRedis(redis: Redis, prefixes: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const prefix of prefixes)
    for (const [k, e] of await readRedis(redis, await scanKeys(redis, prefix)))
      out.set(k, JSON.stringify(e.value));
  return out;
}

export async function dynamoItems(t: TestSystem): Promise<Record<string, unknown>[]> {
  const db = createDynamo(t.system.dynamoEndpoint, t.config.AWS_REGION);
  try {
    return [...(await readDynamo(db, t.config.DYNAMODB_TABLE)).values()];
  } finally {
    db.destroy();
  }
}

export async function partitionCount(t: TestSystem, user: string): Promise<number> {
  const db = createDynamo(t.system.dynamoEndpoint, t.config.AWS_REGION);
  const r = await db.send(
    new QueryCommand({
      TableName: t.config.DYNAMODB_TABLE,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": `USER#${user}` },
      ConsistentRead: true,
    }),
  );
  db.destroy();
  return r.Count ?? 0;
}

/** Every job in every state and every job scheduler of the given queues, as JSON text. */
export async function dumpQueues(queues: readonly Queue[]): Promise<{ queue: string; json: string }[]> {
  const out: { queue: string; json: string }[] = [];
  const states = [
    "waiting",
    "prioritized",
    "delayed",
    "waiting-children",
    "active",
    "completed",
    "failed",
  ] as const;
  for (const q of queues) {
    for (const j of await q.getJobs([...states], 0, -1))
      if (j) out.push({ queue: q.name, json: JSON.stringify(j) });
    for (const s of await q.getJobSchedulers(0, -1)) out.push({ queue: q.name, json: JSON.stringify(s) });
  }
  return out;
}
