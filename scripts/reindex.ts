import { DescribeTableCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import pino from "pino";
import { startSystem } from "../src/app/system.js";
import { ConfigError, loadConfig } from "../src/config/config.js";
import { UserId } from "../src/elements/common.js";
import { createDynamo } from "../src/infra/dynamo.js";
import { StartupError } from "../src/infra/redis.js";
import { progressBar } from "../src/semantic/progress.js";
import type { SyncResult } from "../src/semantic/sync.js";

const USAGE = "usage: npm run reindex -- --user <user_id> | --all [--concurrency <n>]";

function parseArgs(argv: string[]): { users?: string[]; all: boolean; concurrency: number } {
  const users: string[] = [];
  let all = false;
  let concurrency = 4;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--all") all = true;
    else if (a === "--user") {
      const u = UserId.safeParse(argv[++i]);
      if (!u.success) throw new ConfigError(`--user needs a user id\n${USAGE}`);
      users.push(u.data);
    } else if (a === "--concurrency") {
      concurrency = Number(argv[++i]);
      if (!Number.isInteger(concurrency) || concurrency < 1)
        throw new ConfigError(`--concurrency needs a number\n${USAGE}`);
    } else throw new ConfigError(`unknown argument ${a}\n${USAGE}`);
  }
  if (all === users.length > 0) throw new ConfigError(USAGE);
  return { ...(users.length ? { users } : {}), all, concurrency };
}

/** The embedded DynamoDB of a running `npm start` on this DATA_DIR, if there is one. */
async function runningDynalite(port: number, region: string, table: string): Promise<string | undefined> {
  const endpoint = `http://127.0.0.1:${port}`;
  const db = createDynamo(endpoint, region);
  try {
    await db.send(new DescribeTableCommand({ TableName: table }));
    return endpoint;
  } catch {
    return undefined;
  } finally {
    db.destroy();
  }
}

async function allUsers(endpoint: string | undefined, region: string, table: string): Promise<string[]> {
  const db = createDynamo(endpoint, region);
  const users = new Set<string>();
  let start: Record<string, unknown> | undefined;
  try {
    do {
      const r = await db.send(
        new ScanCommand({
          TableName: table,
          ProjectionExpression: "pk",
          ExclusiveStartKey: start as never,
        }),
      );
      for (const it of r.Items ?? []) {
        const pk = it.pk?.S;
        if (pk?.startsWith("USER#")) users.add(pk.slice(5));
      }
      start = r.LastEvaluatedKey;
    } while (start);
  } finally {
    db.destroy();
  }
  return [...users].sort();
}

/**
 * `npm run reindex -- --user <id> | --all`: makes the vector index match DynamoDB. Texts whose
 * hash (embedder identity + text) is already there are skipped; everything else is embedded;
 * vectors of items that no longer exist are deleted. After a model change the new index
 * identity starts empty and this fills it.
 */
try {
  const args = parseArgs(process.argv.slice(2));
  let config = loadConfig();
  if (!config.DYNAMODB_ENDPOINT) {
    const endpoint = await runningDynalite(config.DYNALITE_PORT, config.AWS_REGION, config.DYNAMODB_TABLE);
    if (endpoint) config = { ...config, DYNAMODB_ENDPOINT: endpoint };
  }
  const log = pino({ level: config.LOG_LEVEL === "info" ? "warn" : config.LOG_LEVEL });
  const system = await startSystem(config, { api: false, workers: [], log });
  try {
    const semantic = system.deps.semantic;
    if (!semantic) throw new ConfigError("semantic memory is not configured");
    const users =
      args.users ?? (await allUsers(system.dynamoEndpoint, config.AWS_REGION, config.DYNAMODB_TABLE));
    const bar = progressBar(users.length);
    const totals: SyncResult & { users: number; failed: string[] } = {
      users: 0,
      embedded: 0,
      unchanged: 0,
      deleted: 0,
      failed: [],
    };
    const started = performance.now();
    bar.update(0);
    let next = 0;
    const worker = async () => {
      while (next < users.length) {
        const user = users[next++] as string;
        try {
          const r = await semantic.sync.syncUser(user);
          totals.embedded += r.embedded;
          totals.unchanged += r.unchanged;
          totals.deleted += r.deleted;
        } catch (err) {
          totals.failed.push(user);
          log.error({ reason: (err as Error).message }, "reindex of one user failed");
        }
        totals.users++;
        bar.update(totals.users, `embedded ${totals.embedded}`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(args.concurrency, Math.max(1, users.length)) }, worker));
    const summary = {
      ...totals,
      embedder: semantic.embedder.identity,
      index: semantic.index.kind,
      embedding_calls: semantic.batcher.stats.calls,
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
    console.log(JSON.stringify(summary));
    process.exitCode = totals.failed.length ? 1 : 0;
  } finally {
    await system.close();
  }
} catch (err) {
  if (err instanceof ConfigError || err instanceof StartupError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}
