import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";

/** Episodic items sort after every document ("~"), so a cold refill never reads them. */
const JOURNAL = "~JOURNAL#";
const DIGEST = "~DIGEST";
const pk = (user: string) => `USER#${user}`;

export interface JournalEntry {
  journal_id: string;
  text: string;
  /** When it happened (UTC ISO, never later than recorded_at). */
  at: string;
  recorded_at: string;
  seq: number;
}

export interface StoredDigest {
  user_id: string;
  date: string;
  timezone: string;
  generated_at: string;
  [k: string]: unknown;
}

const strip = ({ pk: _p, sk: _s, user_id: _u, ...rest }: Record<string, unknown>) => rest;

/** Journal entries and the latest daily digest, in the user's DynamoDB partition. */
export class CadenceStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Idempotent by journal_id: a replayed job finds the entry already there. */
  async addJournal(user: string, e: JournalEntry): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: pk(user), sk: `${JOURNAL}${e.at}#${e.journal_id}`, user_id: user, ...e },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return true;
    } catch (err) {
      if ((err as { name?: string }).name === "ConditionalCheckFailedException") return false;
      throw err;
    }
  }

  /** Newest first; `cursor` is the opaque position after the last item of the previous page. */
  async listJournal(
    user: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: JournalEntry[]; next_cursor: string | null }> {
    const after = cursor ? Buffer.from(cursor, "base64url").toString("utf8") : undefined;
    const r = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues: { ":pk": pk(user), ":p": JOURNAL },
        ScanIndexForward: false,
        Limit: limit + 1,
        ...(after?.startsWith(JOURNAL) ? { ExclusiveStartKey: { pk: pk(user), sk: after } } : {}),
      }),
    );
    const all = r.Items ?? [];
    const page = all.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((it) => strip(it) as unknown as JournalEntry),
      next_cursor: all.length > limit && last ? Buffer.from(String(last.sk)).toString("base64url") : null,
    };
  }

  /** Entries with `at` >= fromIso, newest first, at most `cap` (callers filter by sequence). */
  async journalSince(user: string, fromIso: string, cap: number): Promise<JournalEntry[]> {
    const out: JournalEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
          ExpressionAttributeValues: {
            ":pk": pk(user),
            ":from": `${JOURNAL}${fromIso}`,
            ":to": `${JOURNAL}~`,
          },
          ConsistentRead: true,
          ScanIndexForward: false,
          Limit: Math.min(cap - out.length, 500),
          ExclusiveStartKey: start,
        }),
      );
      for (const it of r.Items ?? []) out.push(strip(it) as unknown as JournalEntry);
      start = r.LastEvaluatedKey;
    } while (start && out.length < cap);
    return out;
  }

  async allJournal(user: string): Promise<JournalEntry[]> {
    return this.journalSince(user, "", Number.MAX_SAFE_INTEGER);
  }

  async putDigest(d: StoredDigest): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.table, Item: { pk: pk(d.user_id), sk: DIGEST, ...d } }),
    );
  }

  async getDigest(user: string): Promise<StoredDigest | undefined> {
    const r = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: pk(user), sk: DIGEST }, ConsistentRead: true }),
    );
    if (!r.Item) return undefined;
    const { pk: _p, sk: _s, ...d } = r.Item;
    return d as StoredDigest;
  }
}
