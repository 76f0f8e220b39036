import type { PersistQueue } from "../../queues/persist-queue.js";
import type { DynamoStore } from "../repositories/dynamo-store.js";
import type { HotStore } from "../repositories/redis-hot.js";
import type { MemoryReader } from "../services/reader.js";

export interface ApiDeps {
  reader: MemoryReader;
  hot: HotStore;
  store: DynamoStore;
  persist: PersistQueue;
  now: () => Date;
}
