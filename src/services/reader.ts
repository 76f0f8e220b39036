import type { CollectionName, DocElement } from "../elements/registry.js";
import type { DynamoStore } from "../repositories/dynamo-store.js";
import type { HotDoc, HotStore, UserSnapshot } from "../repositories/redis-hot.js";

const LIST_CAP = 1000;
const CONTEXT_CAP = 500;

/** Reads from the hot tier; a cold user is refilled from DynamoDB first (read-through). */
export class MemoryReader {
  private readonly refills = new Map<string, Promise<void>>();

  constructor(
    readonly hot: HotStore,
    private readonly store: DynamoStore,
  ) {}

  /** One refill per user at a time in this process. */
  warm(user: string): Promise<void> {
    let p = this.refills.get(user);
    if (!p) {
      p = this.store
        .loadUser(user)
        .then((docs) => this.hot.refill(user, docs))
        .finally(() => this.refills.delete(user));
      this.refills.set(user, p);
    }
    return p;
  }

  async get(user: string, element: DocElement, id: string): Promise<HotDoc | undefined> {
    let r = await this.hot.getDoc(user, element, id);
    if (!r.warm) {
      await this.warm(user);
      r = await this.hot.getDoc(user, element, id);
    }
    return r.doc;
  }

  async list(
    user: string,
    element: CollectionName,
    min: number | "-inf" = "-inf",
    max: number | "+inf" = "+inf",
  ) {
    let r = await this.hot.list(user, element, min, max, LIST_CAP);
    if (!r.warm) {
      await this.warm(user);
      r = await this.hot.list(user, element, min, max, LIST_CAP);
    }
    return r.docs;
  }

  /** What the context shows, in one round trip: singletons, active goals, open to-dos, events in the window. */
  async snapshot(user: string, eventsFrom: number, eventsTo: number): Promise<UserSnapshot> {
    let s = await this.hot.readUser(user, eventsFrom, eventsTo, CONTEXT_CAP);
    if (!s.warm) {
      await this.warm(user);
      s = await this.hot.readUser(user, eventsFrom, eventsTo, CONTEXT_CAP);
    }
    return s;
  }
}
