import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";

/** A push channel we opened; the secret token itself is only ever held as a hash. */
export interface ChannelInfo {
  id: string;
  token_hash: string;
  created_at: number;
  resource_id?: string;
  expires_at?: number;
}

export interface SyncError {
  at: string;
  code: string;
  message: string;
}

export type ConnectionStatus = "connected" | "disconnected";

/** One user's Google connection. Token fields hold ciphertexts (TokenCipher), never plain values. */
export interface Connection {
  user_id: string;
  rev: number;
  status: ConnectionStatus;
  calendar_id: string;
  scope?: string;
  connected_at: number;
  disconnected_at?: number;
  disconnect_reason?: string;
  refresh_token?: string;
  access_token?: string;
  access_expires_at?: number;
  sync_token?: string;
  full_sync_needed?: boolean;
  last_full_sync_at?: number;
  last_sync_at?: number;
  last_sync_status?: "ok" | "error";
  last_sync_counts?: { upserted: number; cancelled: number; unchanged: number };
  last_notification_at?: number;
  channel?: ChannelInfo;
  /** Channels replaced or orphaned that still have to be stopped at Google. */
  stale_channels?: ChannelInfo[];
  errors: SyncError[];
}

export class ConnectionConflict extends Error {}

const pk = (user: string) => `USER#${user}`;
// "~" keeps it out of the document range the hot-tier refill reads (DynamoStore.loadUser).
export const CONNECTION_SK = "~GOOGLE#CONNECTION";
const channelPk = (id: string) => `GCHANNEL#${id}`;
const CHANNEL_SK = "CHANNEL";
const MAX_ERRORS = 10;

const conflict = (err: unknown) => (err as { name?: string }).name === "ConditionalCheckFailedException";

/** Connections (in the user's partition) and the channel-id → user lookup the webhook needs. */
export class GoogleStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(user: string): Promise<Connection | undefined> {
    const r = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: pk(user), sk: CONNECTION_SK },
        ConsistentRead: true,
      }),
    );
    if (!r.Item) return undefined;
    const { pk: _p, sk: _s, ...c } = r.Item;
    return c as Connection;
  }

  /** Writes `next` only if the stored revision is still `next.rev - 1` (absent for rev 1). */
  async put(next: Connection): Promise<void> {
    const prev = next.rev - 1;
    const clean = Object.fromEntries(Object.entries(next).filter(([, v]) => v !== undefined));
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: pk(next.user_id), sk: CONNECTION_SK, ...clean },
          ConditionExpression: prev === 0 ? "attribute_not_exists(pk)" : "#rev = :prev",
          ...(prev === 0
            ? {}
            : { ExpressionAttributeNames: { "#rev": "rev" }, ExpressionAttributeValues: { ":prev": prev } }),
        }),
      );
    } catch (err) {
      if (conflict(err)) throw new ConnectionConflict();
      throw err;
    }
  }

  /**
   * Read-modify-write with retries on concurrent change. `fn` returns the new state, or
   * undefined to leave it alone (also when there is no connection).
   */
  async update(
    user: string,
    fn: (cur: Connection | undefined) => Connection | undefined,
  ): Promise<Connection | undefined> {
    for (let i = 0; i < 20; i++) {
      const cur = await this.get(user);
      const next = fn(cur ? structuredClone(cur) : undefined);
      if (!next) return cur;
      next.rev = (cur?.rev ?? 0) + 1;
      next.errors = next.errors.slice(-MAX_ERRORS);
      try {
        await this.put(next);
        return next;
      } catch (err) {
        if (!(err instanceof ConnectionConflict)) throw err;
      }
    }
    throw new Error("gave up after 20 concurrent connection updates");
  }

  async delete(user: string): Promise<void> {
    await this.db.send(
      new DeleteCommand({ TableName: this.table, Key: { pk: pk(user), sk: CONNECTION_SK } }),
    );
  }

  async putChannel(user: string, ch: ChannelInfo): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: channelPk(ch.id), sk: CHANNEL_SK, user_id: user, ...ch },
      }),
    );
  }

  async getChannel(id: string): Promise<(ChannelInfo & { user_id: string }) | undefined> {
    const r = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: channelPk(id), sk: CHANNEL_SK },
        ConsistentRead: true,
      }),
    );
    if (!r.Item) return undefined;
    const { pk: _p, sk: _s, ...c } = r.Item;
    return c as ChannelInfo & { user_id: string };
  }

  async deleteChannel(id: string): Promise<void> {
    await this.db.send(
      new DeleteCommand({ TableName: this.table, Key: { pk: channelPk(id), sk: CHANNEL_SK } }),
    );
  }
}

export const pushError = (c: Connection, at: Date, code: string, message: string) => {
  c.errors.push({ at: at.toISOString(), code, message: message.slice(0, 300) });
};
