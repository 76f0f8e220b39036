/** Latency and throughput helpers for the benchmarks (no timed assertions anywhere else). */
export interface Stats {
  n: number;
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/** Runs `op` n times with `concurrency` in flight; per-op latency and overall throughput. */
export async function measure(
  n: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<Stats> {
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
  const total = performance.now() - t0;
  lat.sort((a, b) => a - b);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return { n, ops_per_s: Math.round((n / total) * 1000), p50_ms: r2(pct(lat, 50)), p99_ms: r2(pct(lat, 99)) };
}

export interface Row {
  benchmark: string;
  ours: Stats | Record<string, number>;
  baseline: Stats | Record<string, number>;
  baseline_name: string;
  ratio: string;
}

export function ratio(ours: Stats, base: Stats): string {
  return `${(ours.p50_ms / Math.max(base.p50_ms, 0.001)).toFixed(1)}x p50, ${(base.ops_per_s / Math.max(ours.ops_per_s, 1)).toFixed(1)}x slower throughput`;
}
