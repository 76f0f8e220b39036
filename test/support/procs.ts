import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Real processes for fault-injection tests: Redis with AOF, dynalite, API and worker processes. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => res(port));
    });
    s.on("error", rej);
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(
  what: string,
  f: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch {}
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(150);
  }
}

export interface Proc {
  child: ChildProcess;
  kill(signal?: NodeJS.Signals): Promise<void>;
  output(): string;
}

export function run(cmd: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d) => {
    out = (out + d).slice(-20_000);
  });
  child.stderr?.on("data", (d) => {
    out = (out + d).slice(-20_000);
  });
  return {
    child,
    output: () => out,
    kill: (signal = "SIGTERM") =>
      new Promise<void>((res) => {
        if (child.exitCode !== null || child.signalCode !== null) return res();
        child.once("exit", () => res());
        child.kill(signal);
      }),
  };
}

export class RedisProc {
  proc?: Proc;
  constructor(
    readonly port: number,
    readonly dir: string,
    /** AOF with fsync on every write (fault tests); false = no persistence at all (benchmarks). */
    readonly aof = true,
  ) {}
  async start(): Promise<void> {
    const persistence = this.aof
      ? ["--appendonly", "yes", "--appendfsync", "always"]
      : ["--appendonly", "no"];
    this.proc = run("redis-server", [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--dir",
      this.dir,
      ...persistence,
      "--save",
      "",
    ]);
    const { Redis } = await import("ioredis");
    await until("redis up", async () => {
      const r = new Redis(this.port, "127.0.0.1", {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      r.on("error", () => {});
      try {
        await r.connect();
        return (await r.ping()) === "PONG";
      } finally {
        r.disconnect();
      }
    });
  }
  url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  async stop(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    await this.proc?.kill(signal);
  }
}

export class DynaliteProc {
  proc?: Proc;
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {}
  async start(): Promise<void> {
    const script = fileURLToPath(new URL("./dynalite-main.ts", import.meta.url));
    this.proc = run(process.execPath, ["--import", "tsx", script, String(this.port), this.dir]);
    await until("dynalite up", async () => {
      const r = await fetch(this.endpoint(), { method: "POST" }).catch(() => undefined);
      return r !== undefined;
    });
  }
  endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  async stop(): Promise<void> {
    await this.proc?.kill("SIGKILL");
  }
}

export function tempDir(tag: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `cm-${tag}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
