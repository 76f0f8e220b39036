import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy in front of a local test server (embedding server, vector index) that a fault
 * test can take down and bring back on the same port: `down()` stops listening and cuts every
 * open connection, so clients see ECONNREFUSED / ECONNRESET exactly as with a dead server.
 */
export interface OutageProxy {
  /** `http://127.0.0.1:<port>` plus the target's path (e.g. `/v1`). */
  url: string;
  port: number;
  isUp(): boolean;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startOutageProxy(target: string): Promise<OutageProxy> {
  const t = new URL(target);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const listen = () =>
    new Promise<void>((res, rej) => {
      const s = createServer((client) => {
        const upstream = createConnection(t, client);
        sockets.add(client).add(upstream);
        const forget = () => {
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on("close", forget);
        upstream.on("close", forget);
      });
      s.once("error", rej);
      s.listen(port, "127.0.0.1", () => {
        const a = s.address();
        port = typeof a === "object" && a ? a.port : port;
        server = s;
        res();
      });
    });

  const down = () =>
    new Promise<void>((res) => {
      const s = server;
      server = undefined;
      for (const sock of sockets) sock.destroy();
      sockets.clear();
      if (!s) return res();
      s.close(() => res());
    });

  await listen();
  return {
    url: `http://127.0.0.1:${port}${t.pathname === "/" ? "" : t.pathname}`,
    port,
    isUp: () => server !== undefined,
    down,
    up: async () => {
      if (!server) await listen();
    },
    close: down,
  };
}

function createConnection(t: URL, client: Socket): Socket {
  const upstream: Socket = connect(Number(t.port), t.hostname);
  client.pipe(upstream).pipe(client);
  const kill = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", kill);
  upstream.on("error", kill);
  return upstream;
}
