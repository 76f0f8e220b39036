import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { Queue } from "bullmq";
import express from "express";
import { DEFAULT_JOB_OPTIONS } from "../queues/options.js";
import { createRedis } from "../src/infra/redis.js";

/**
 * Floors for figure 1, run as their own process like the API: the least an HTTP ingress can
 * do (read the body, queue.add, answer 202) with no auth, validation or sequencing.
 * FLOOR=express (express.json + one route) or FLOOR=node (node:http alone).
 */
const queue = new Queue("persist-floor", {
  connection: createRedis(process.env.REDIS_URL ?? ""),
  prefix: process.env.QUEUE_PREFIX ?? "bq",
  defaultJobOptions: DEFAULT_JOB_OPTIONS,
});
let seq = 0;
const add = async (user_id: string, data: unknown) => {
  const job = await queue.add(
    "persist",
    { op: "put", element: "profile", user_id, seq: ++seq, data },
    { jobId: randomUUID() },
  );
  return job.id;
};
const port = Number(process.env.PORT);

if (process.env.FLOOR === "express") {
  const app = express();
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.put("/v1/users/:user_id/profile", express.json(), async (req, res) => {
    res.status(202).json({ job_id: await add(req.params.user_id, req.body), status: "queued" });
  });
  app.listen(port, "127.0.0.1");
} else {
  createServer((req, res) => {
    if (req.method === "GET") {
      res.end('{"status":"ok"}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const id = await add(req.url?.split("/")[3] ?? "", JSON.parse(Buffer.concat(chunks).toString()));
      res.writeHead(202, { "content-type": "application/json" });
      res.end(JSON.stringify({ job_id: id, status: "queued" }));
    });
  }).listen(port, "127.0.0.1");
}
