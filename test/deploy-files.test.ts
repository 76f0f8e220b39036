import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = join(import.meta.dirname, "..");
const read = (f: string) => readFileSync(join(ROOT, f), "utf8");

/** Variable names of the EnvSchema in src/config/config.ts (one `NAME:` entry per line). */
function configVars(): string[] {
  const src = read("src/config/config.ts");
  const body = /const EnvSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(src)?.[1] ?? "";
  return [...body.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1] as string);
}

/** The file a `node --import tsx <file> …` command runs. */
function entryOf(command: string | string[] | undefined): string {
  const parts = Array.isArray(command) ? command : String(command).trim().split(/\s+/);
  expect(parts.slice(0, 3)).toEqual(["node", "--import", "tsx"]);
  return parts[3] as string;
}

describe("configuration table", () => {
  it("has a README row for every variable in config.ts, and none for unknown ones", () => {
    const vars = configVars();
    expect(vars.length).toBeGreaterThan(10);
    const readme = read("README.md");
    const section = /^## Configuration\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? "";
    const rows = [...section.matchAll(/^\| `([A-Z][A-Z0-9_]*)` *\|/gm)].map((m) => m[1]);
    expect(vars.filter((v) => !rows.includes(v))).toEqual([]);
    expect(rows.filter((r) => !vars.includes(r as string))).toEqual([]);
  });
});

describe("Procfile", () => {
  const entries = Object.fromEntries(
    read("Procfile")
      .split("\n")
      .filter((l) => l.trim() && !l.startsWith("#"))
      .map((l) => {
        const i = l.indexOf(":");
        return [l.slice(0, i), l.slice(i + 1).trim()];
      }),
  );
  const scripts = JSON.parse(read("package.json")).scripts as Record<string, string>;

  it("runs the API alone as web and every worker as worker, the files the npm scripts run", () => {
    expect(Object.keys(entries).sort()).toEqual(["web", "worker"]);
    expect(entryOf(entries.web)).toBe("src/api-main.ts");
    expect(entryOf(entries.worker)).toBe("src/worker-main.ts");
    expect(scripts.api).toBe("tsx src/api-main.ts");
    expect(scripts.worker).toBe("tsx src/worker-main.ts");
    for (const e of Object.values(entries)) expect(existsSync(join(ROOT, entryOf(e)))).toBe(true);
  });

  it("starts no workers in the API process", () => {
    expect(read("src/api-main.ts")).toMatch(/startSystem\(config, \{ api: true, workers: \[\]/);
  });
});

describe("docker-compose.yml", () => {
  const compose = parse(read("docker-compose.yml"), { merge: true }) as {
    services: Record<string, any>;
    volumes: Record<string, unknown>;
  };
  const s = compose.services;
  const vars = configVars();

  it("has redis with AOF persistence, DynamoDB Local on a volume, api and worker", () => {
    expect(Object.keys(s).sort()).toEqual(["api", "dynamodb", "redis", "worker"]);
    expect(s.redis.image).toMatch(/^redis:7/);
    expect(s.redis.command.join(" ")).toContain("--appendonly yes");
    expect(s.redis.command.join(" ")).toContain("--maxmemory-policy noeviction");
    expect(s.redis.volumes).toContain("redis-data:/data");
    expect(s.dynamodb.image).toMatch(/^amazon\/dynamodb-local/);
    const cmd: string[] = s.dynamodb.command;
    expect(cmd).toContain("-sharedDb");
    const dbPath = cmd[cmd.indexOf("-dbPath") + 1];
    expect(s.dynamodb.volumes).toContain(`dynamodb-data:${dbPath}`);
  });

  it("runs the app like npm start (api) and npm run worker -- persist (worker), against the services", () => {
    expect(entryOf(s.api.command)).toBe("src/main.ts");
    expect(s.worker.command).toEqual(["node", "--import", "tsx", "src/worker-main.ts", "persist"]);
    for (const name of ["api", "worker"]) {
      const svc = s[name];
      expect(svc.build).toBe(".");
      expect(svc.environment.DYNAMODB_ENDPOINT).toBe("http://dynamodb:8000");
      expect(svc.environment.REDIS_URL).toBe("redis://redis:6379");
      expect(svc.environment.MEMORY_API_KEYS).toMatch(/^\$\{MEMORY_API_KEYS:\?/);
      // A misspelt variable would be ignored silently by the app.
      expect(Object.keys(svc.environment).filter((k) => !vars.includes(k))).toEqual([]);
      expect(svc.depends_on.redis.condition).toBe("service_healthy");
      expect(svc.depends_on.dynamodb.condition).toBe("service_healthy");
    }
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose interpolation, not a JS template
    expect(s.api.ports).toEqual(["${PORT:-3000}:3000"]);
  });

  it("has well-formed health checks and declares every named volume", () => {
    for (const [name, svc] of Object.entries(s)) {
      if (!svc.healthcheck) continue;
      const test = svc.healthcheck.test;
      expect(Array.isArray(test), name).toBe(true);
      for (const part of test) expect(typeof part, `${name}: ${JSON.stringify(part)}`).toBe("string");
      expect(["CMD", "CMD-SHELL"]).toContain(test[0]);
    }
    const named = Object.values(s)
      .flatMap((svc) => (svc.volumes ?? []) as string[])
      .map((v) => v.split(":")[0] as string)
      .filter((v) => !v.startsWith(".") && !v.startsWith("/"));
    expect(named.filter((v) => !(v in compose.volumes))).toEqual([]);
  });
});

describe("Dockerfile", () => {
  const df = read("Dockerfile");

  it("builds from node:22-slim with npm ci and runs as a non-root user", () => {
    expect(df).toMatch(/^FROM node:22-slim$/m);
    expect(df).toMatch(/^RUN npm ci --omit=dev/m);
    expect(df).toMatch(/^USER node$/m);
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(df)?.[1] ?? "[]") as string[];
    expect(entryOf(cmd)).toBe("src/main.ts");
  });

  it("installs every package the app imports at run time (the image omits devDependencies)", () => {
    const deps = Object.keys(JSON.parse(read("package.json")).dependencies);
    const imported = new Set<string>();
    for (const dir of ["src", "workers", "queues"]) {
      for (const f of readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })) {
        if (!f.endsWith(".ts") || f.endsWith(".d.ts")) continue;
        const text = read(join(dir, f));
        for (const m of text.matchAll(/(?:^import(?!\s+type\b)[^"']*?from\s+|import\()"([^"./][^"]*)"/gm)) {
          const spec = m[1] as string;
          if (spec.startsWith("node:")) continue;
          imported.add(
            spec
              .split("/")
              .slice(0, spec.startsWith("@") ? 2 : 1)
              .join("/"),
          );
        }
      }
    }
    expect(imported.size).toBeGreaterThan(5);
    expect([...imported].filter((p) => !deps.includes(p))).toEqual([]);
  });
});
