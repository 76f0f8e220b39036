import dynalite from "dynalite";

/**
 * A standalone DynamoDB-compatible server for fault tests, as its own process so a test can
 * SIGKILL it and start it again on the same port and data directory:
 * `node --import tsx test/support/dynalite-main.ts <port> <path>`.
 */
const [port, path] = process.argv.slice(2);
if (!port || !path) {
  console.error("usage: dynalite-main.ts <port> <path>");
  process.exit(2);
}
const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(Number(port), "127.0.0.1", () => console.log(`dynalite listening on 127.0.0.1:${port}`));
