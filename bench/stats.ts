/** Latency and throughput helpers for the benchmarks (no timed assertions anywhere else). */
export interface Stats {
  n: number;
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const r2 = (x: number) => Math.round(x * 100) / 100;

/** Stats from per-operation latencies (ms) and the wall time they took. */
export function percentiles(lat: number[], n: number, totalMs: number): Stats {
  const sorted = [...lat].sort((a, b) => a - b);
  return {
    n,
    ops_per_s: Math.round((n / totalMs) * 1000),
    p50_ms: r2(pct(sorted, 50)),
    p99_ms: r2(pct(sorted, 99)),
  };
}

/** Runs `op` n times with `concurrency` in flight; per-op latency and overall throughput. */
export async function measure(
  n: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
  /** An unmeasured first pass of n/4 (JIT, connections), as the API runs get. */
  warmUp = false,
): Promise<Stats> {
  if (warmUp) await measure(Math.ceil(n / 4), concurrency, op);
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const s = performance.now();
        await op(i);
        lat.push(performance.now() - s);
      }
    }),
  );
  return percentiles(lat, n, performance.now() - t0);
}
