import type { Embedder } from "./embedder.js";

interface Pending {
  texts: string[];
  resolve: (v: number[][]) => void;
  reject: (e: unknown) => void;
}

/**
 * Gathers the texts of jobs running at the same time into one embedding call: a worker with
 * concurrency N that finds N jobs waiting makes one request for all of them instead of N.
 */
export class EmbedBatcher {
  private pending: Pending[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Calls made and texts sent (for the tests and the README figures). */
  readonly stats = { calls: 0, texts: 0 };

  constructor(
    private readonly embedder: Embedder,
    private readonly maxBatch: number,
    private readonly windowMs: number,
  ) {}

  embed(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.pending.push({ texts, resolve, reject });
      this.size += texts.length;
      if (this.size >= this.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch: Pending[] = [];
    let n = 0;
    while (
      this.pending.length &&
      (n === 0 || n + (this.pending[0] as Pending).texts.length <= this.maxBatch)
    ) {
      const p = this.pending.shift() as Pending;
      batch.push(p);
      n += p.texts.length;
    }
    this.size -= n;
    if (this.pending.length) this.timer = setTimeout(() => this.flush(), 0);
    this.stats.calls++;
    this.stats.texts += n;
    this.embedder.embedDocuments(batch.flatMap((p) => p.texts)).then(
      (vectors) => {
        let at = 0;
        for (const p of batch) {
          p.resolve(vectors.slice(at, at + p.texts.length));
          at += p.texts.length;
        }
      },
      (err) => {
        for (const p of batch) p.reject(err);
      },
    );
  }
}
