import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
} from "@aws-sdk/lib-dynamodb";
import { COLLECTIONS, type DocElement, ELEMENTS, SINGLETONS } from "../elements/registry.js";
import { SELF, type StoredDoc } from "../elements/stored.js";

export class VersionConflict extends Error {}

/** Episodic records live after every document ("~" sorts last) so a cold refill reads documents only. */
const EPISODIC = "~";
const FEEDBACK = `${EPISODIC}FEEDBACK#`;
/** Key-only markers of deleted collection items (no user data), after the documents like feedback. */
const DELETED = `${EPISODIC}DELETED#`;

/** Whether `cursor` is one listFeedback handed out (the sort key of a page's last item). */
export const isFeedbackCursor = (cursor: string): boolean =>
  Buffer.from(cursor, "base64url").toString("utf8").startsWith(FEEDBACK);

export interface FeedbackRecord {
  feedback_id: string;
  interaction_id: string;
  rating: number;
  tags?: string[];
  comments?: string;
  timestamp: string;
  seq: number;
}

const pk = (user: string) => `USER#${user}`;
const sk = (element: DocElement, id: string) => {
  const def = ELEMENTS[element];
  return def.kind === "singleton" ? def.sk : `${def.sk}${id}`;
};

function toDoc(item: Record<string, unknown>): StoredDoc {
  return {
    user_id: String(item.user_id),
    element: item.element as DocElement,
    id: String(item.id),
    data: (item.data as Record<string, unknown>) ?? {},
    fv: (item.fv as Record<string, number>) ?? {},
    seq: Number(item.seq),
    rev: Number(item.rev),
    created_at: String(item.created_at),
    updated_at: String(item.updated_at),
  };
}

/** DynamoDB, the source of truth: single table, one partition per user, conditional writes on `rev`. */
export class DynamoStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(user: string, element: DocElement, id = SELF): Promise<StoredDoc | undefined> {
    const r = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: pk(user), sk: sk(element, id) },
        ConsistentRead: true,
      }),
    );
    return r.Item ? toDoc(r.Item) : undefined;
  }

  /** Writes `doc` only if the stored revision is still `doc.rev - 1` (or absent for rev 1). */
  async put(doc: StoredDoc): Promise<void> {
    const prev = doc.rev - 1;
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: pk(doc.user_id), sk: sk(doc.element, doc.id), ...doc },
          ConditionExpression: prev === 0 ? "attribute_not_exists(pk)" : "#rev = :prev",
          ...(prev === 0
            ? {}
            : { ExpressionAttributeNames: { "#rev": "rev" }, ExpressionAttributeValues: { ":prev": prev } }),
        }),
      );
    } catch (err) {
      if ((err as { name?: string }).name === "ConditionalCheckFailedException") throw new VersionConflict();
      throw err;
    }
  }

  /**
   * Deletes the document. A key-only marker is written first, so a create job replayed after
   * the delete (at-least-once delivery) finds it (`wasDeleted`) instead of bringing the item back.
   */
  async delete(doc: StoredDoc): Promise<void> {
    if (ELEMENTS[doc.element].kind === "collection") {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: pk(doc.user_id), sk: `${DELETED}${sk(doc.element, doc.id)}`, user_id: doc.user_id },
        }),
      );
    }
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: pk(doc.user_id), sk: sk(doc.element, doc.id) },
          ConditionExpression: "#rev = :rev",
          ExpressionAttributeNames: { "#rev": "rev" },
          ExpressionAttributeValues: { ":rev": doc.rev },
        }),
      );
    } catch (err) {
      if ((err as { name?: string }).name === "ConditionalCheckFailedException") throw new VersionConflict();
      throw err;
    }
  }

  async wasDeleted(user: string, element: DocElement, id: string): Promise<boolean> {
    const r = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: pk(user), sk: `${DELETED}${sk(element, id)}` },
        ConsistentRead: true,
      }),
    );
    return r.Item !== undefined;
  }

  /** Every page of a Query over one user's partition (`extra` narrows it). */
  private async *partition(
    user: string,
    extra: Omit<QueryCommandInput, "TableName" | "KeyConditionExpression" | "ExclusiveStartKey"> & {
      sk?: string;
    } = {},
  ): AsyncGenerator<QueryCommandOutput> {
    const { sk: skCondition, ExpressionAttributeValues, ...rest } = extra;
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: skCondition ? `pk = :pk AND ${skCondition}` : "pk = :pk",
          ExpressionAttributeValues: { ":pk": pk(user), ...ExpressionAttributeValues },
          ConsistentRead: true,
          ExclusiveStartKey: start,
          ...rest,
        }),
      );
      yield r;
      start = r.LastEvaluatedKey;
    } while (start);
  }

  /** Every document of a user (not the episodic records): the cold-cache refill. */
  async loadUser(user: string): Promise<StoredDoc[]> {
    const out: StoredDoc[] = [];
    for await (const r of this.partition(user, {
      sk: "sk < :ep",
      ExpressionAttributeValues: { ":ep": EPISODIC },
    })) {
      for (const it of r.Items ?? []) out.push(toDoc(it));
    }
    return out;
  }

  /** Idempotent by feedback_id: a replayed job finds the record already there. */
  async addFeedback(user: string, f: FeedbackRecord): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: pk(user), sk: `${FEEDBACK}${f.timestamp}#${f.feedback_id}`, user_id: user, ...f },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return true;
    } catch (err) {
      if ((err as { name?: string }).name === "ConditionalCheckFailedException") return false;
      throw err;
    }
  }

  /** One feedback record by its timestamp and id (the semantic tier keeps both with the vector). */
  async getFeedback(user: string, timestamp: string, id: string): Promise<FeedbackRecord | undefined> {
    const r = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: pk(user), sk: `${FEEDBACK}${timestamp}#${id}` },
        ConsistentRead: true,
      }),
    );
    if (!r.Item) return undefined;
    const { pk: _p, sk: _s, user_id: _u, ...f } = r.Item;
    return f as FeedbackRecord;
  }

  /** Newest first; `cursor` is the opaque position after the last item of the previous page. */
  async listFeedback(
    user: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: FeedbackRecord[]; next_cursor: string | null }> {
    const after = cursor ? Buffer.from(cursor, "base64url").toString("utf8") : undefined;
    const r = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues: { ":pk": pk(user), ":p": FEEDBACK },
        ScanIndexForward: false,
        Limit: limit + 1,
        ...(after?.startsWith(FEEDBACK) ? { ExclusiveStartKey: { pk: pk(user), sk: after } } : {}),
      }),
    );
    const all = r.Items ?? [];
    const page = all.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(({ pk: _p, sk: _s, user_id: _u, ...f }) => f as FeedbackRecord),
      next_cursor: all.length > limit && last ? Buffer.from(String(last.sk)).toString("base64url") : null,
    };
  }

  /** Every item of the user's partition (used by export and erasure proofs). */
  async countUserItems(user: string): Promise<number> {
    let n = 0;
    for await (const r of this.partition(user, { Select: "COUNT" })) n += r.Count ?? 0;
    return n;
  }

  /** Every feedback record of the user, newest first (all pages). */
  async allFeedback(user: string): Promise<Omit<FeedbackRecord, "seq">[]> {
    const out: Omit<FeedbackRecord, "seq">[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.listFeedback(user, 100, cursor);
      for (const { seq: _s, ...f } of page.items) out.push(f);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return out;
  }

  /** Deletes the whole partition (documents and episodic records); returns how many items went. */
  async eraseUser(user: string): Promise<number> {
    let n = 0;
    for await (const r of this.partition(user, { ProjectionExpression: "pk, sk" })) {
      const keys = (r.Items ?? []).map((it) => ({ pk: it.pk, sk: it.sk }));
      for (let i = 0; i < keys.length; i += 25) n += await this.deleteBatch(keys.slice(i, i + 25));
    }
    return n;
  }

  private async deleteBatch(keys: Record<string, unknown>[]): Promise<number> {
    let pending = keys.map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= 8) throw new Error("DynamoDB kept items unprocessed; erasure incomplete");
      if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      const r = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.table]: pending } }));
      pending = (r.UnprocessedItems?.[this.table] ?? []) as typeof pending;
    }
    return keys.length;
  }
}

export const ALL_DOC_ELEMENTS: readonly DocElement[] = [...SINGLETONS, ...COLLECTIONS];
