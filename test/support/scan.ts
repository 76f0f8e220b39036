import { QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { createDynamo } from "../../src/infra/dynamo.js";
import type { TestSystem } from "./system.js";

/** Every key under the system's key and queue prefixes with its whole content as text. */
export async function dumpRedis(redis: Redis, prefixes: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const prefix of prefixes) {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      for (const k of keys) {
        const type = await redis.type(k);
        let v: unknown;
        if (type === "string") v = await redis.get(k);
        else if (type === "hash") v = await redis.hgetall(k);
        else if (type === "list") v = await redis.lrange(k, 0, -1);
        else if (type === "set") v = await redis.smembers(k);
        else if (type === "zset") v = await redis.zrange(k, "0", "-1", "WITHSCORES");
        else if (type === "stream") v = await redis.xrange(k, "-", "+");
        else if (type === "none")
          continue; // expired between SCAN and TYPE
        else v = `unsupported type ${type}`;
        out.set(k, JSON.stringify(v));
      }
    } while (cursor !== "0");
  }
  return out;
}

export async function dynamoItems(t: TestSystem): Promise<Record<string, unknown>[]> {
  const db = createDynamo(t.system.dynamoEndpoint, t.config.AWS_REGION);
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const r = await db.send(
      new ScanCommand({ TableName: t.config.DYNAMODB_TABLE, ExclusiveStartKey: start }),
    );
    items.push(...(r.Items ?? []));
    start = r.LastEvaluatedKey;
  } while (start);
  db.destroy();
  return items;
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
