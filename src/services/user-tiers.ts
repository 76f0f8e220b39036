/**
 * Everything that holds data about a user registers here, so export and erasure reach
 * every tier (hot tier, DynamoDB, vectors, tokens, schedules, queues) without knowing them.
 */
export interface UserTier {
  name: string;
  /** Removes every trace of the user from this tier; idempotent. */
  erase(user: string): Promise<void>;
  /** How many records of the user remain (erasure proofs and tests). */
  count(user: string): Promise<number>;
  /** What this tier holds about the user, for GET /export (never secrets). */
  export?(user: string): Promise<unknown>;
}
