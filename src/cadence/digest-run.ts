import type { MemoryReader } from "../services/reader.js";
import { buildDigest, type Digest } from "./digest.js";
import type { CadenceServices } from "./services.js";

export interface DigestRunDeps {
  cadence: CadenceServices;
  reader: MemoryReader;
  now: () => Date;
}

/** Builds one user's digest for a local date from the hot tier, then stores and publishes it. */
export async function runDigest(
  d: DigestRunDeps,
  user: string,
  tz: string,
  date: string,
  replace = false,
): Promise<{ digest: Digest; status: "stored" | "exists" | "replaced" }> {
  const [todos, goals] = await Promise.all([d.reader.list(user, "todo"), d.reader.list(user, "goal")]);
  const digest = buildDigest(user, tz, date, d.now(), todos, goals, d.cadence.settings.digest);
  return { digest, status: await d.cadence.digests.save(digest, { replace }) };
}
