import type { UserTier } from "../services/user-tiers.js";
import type { VectorIndex } from "./vector-index.js";

/**
 * The user's namespace in the vector index. Export lists what is held per vector (id and
 * metadata); the vectors themselves are numbers derived from texts the other tiers export.
 */
export function vectorTier(index: VectorIndex, embedderIdentity: string): UserTier {
  return {
    name: "vectors",
    erase: (user) => index.deleteUser(user),
    count: async (user) => (await index.listIds(user)).length,
    export: async (user) => {
      const ids = await index.listIds(user);
      const metas = await index.fetch(user, ids);
      return {
        index: index.kind,
        embedder: embedderIdentity,
        vectors: ids.map((id) => ({ id, ...metas.get(id) })),
      };
    },
  };
}
