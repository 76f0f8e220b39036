export type CheckFn = () => Promise<unknown>;

export interface ReadinessReport {
  status: "ready" | "unavailable";
  checks: Record<string, { status: "up" | "down"; error?: string }>;
  down: string[];
}

/**
 * Dependencies /readyz probes. Redis and DynamoDB are registered by startSystem; a part that
 * brings its own dependency (the vector index, say) adds a check with `add`.
 */
export class Readiness {
  private readonly checks = new Map<string, CheckFn>();

  constructor(private readonly timeoutMs: number) {}

  add(name: string, check: CheckFn): void {
    this.checks.set(name, check);
  }

  get names(): string[] {
    return [...this.checks.keys()];
  }

  async report(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            check(),
            new Promise((_, rej) => {
              timer = setTimeout(
                () => rej(new Error(`no answer within ${this.timeoutMs} ms`)),
                this.timeoutMs,
              );
            }),
          ]);
          return [name, { status: "up" as const }] as const;
        } catch (err) {
          // Only the error's class and a short message: connection errors carry no personal data.
          const e = err as { name?: string; code?: string; message?: string };
          const error = `${e.code ?? e.name ?? "Error"}: ${String(e.message ?? "").slice(0, 200)}`;
          return [name, { status: "down" as const, error }] as const;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    const down = entries.filter(([, c]) => c.status === "down").map(([n]) => n);
    return { status: down.length ? "unavailable" : "ready", checks, down };
  }
}
