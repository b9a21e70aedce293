import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { atomiton } from "../helpers/cli.js";
import { startWorker } from "../helpers/queue.js";
import { QueueClient } from "../../src/queue/client.js";
import { dropNamespace, redisAvailability, startRedis, uniqueName, type TestRedis } from "../helpers/redis.js";

// `atomiton workers` prints what any Redis client can write (a worker's id, its runs, its last run):
// a heartbeat record holding ESC sequences must not clear the screen or set the window title.

const ready = redisAvailability();
if (!ready.available) console.warn(ready.reason);

describe.skipIf(!ready.available)("workers: text read from Redis reaches the terminal escaped", () => {
  let redis: TestRedis;
  const ns = uniqueName("workers-escape");
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await dropNamespace(redis.url, ns);
    await redis.stop();
  });

  test("worker id, runs in flight and last run show ESC and C1 controls as escapes", async () => {
    const { Redis } = await import("ioredis");
    const raw = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      // The record as src/queue/worker.ts publishes it at each heartbeat.
      const id = "evil\u001b]0;pwned\u0007-\u001b[2J-1";
      const now = Date.now();
      await raw
        .multi()
        .hset(`${ns}:worker:${id}`, {
          id,
          host: "host\u001b[31m",
          pid: "4242",
          concurrency: "2",
          inFlight: "1",
          runs: JSON.stringify(["run\u009b2J"]),
          lastFetchAt: String(now),
          heartbeatAt: String(now),
          startedAt: String(now),
          heartbeatMs: "60000",
          state: "running",
          lastJob: "last\u001b[H\u202e",
          lastJobAt: String(now),
        })
        .zadd(`${ns}:workers`, now, id)
        .exec();
    } finally {
      raw.disconnect();
    }
    const r = await atomiton(["workers", "--redis", redis.url, "--queue", ns], { env: { NO_COLOR: "1" } });
    expect(r.stdout).toMatch(/WORKER\s+HEALTH/);
    expect(r.stdout).not.toMatch(/[\u001b\u0007\u009b\u202e]/);
    expect(r.stdout).toContain("evil\\x1b]0;pwned\\x07-\\x1b[2J-1");
    expect(r.stdout).toContain("run\\x9b2J");
    expect(r.stdout).toContain("last\\x1b[H\\u202e");
    // --json is data: the same strings, JSON-encoded, round-trip exactly.
    const json = await atomiton(["workers", "--redis", redis.url, "--queue", ns, "--json"]);
    expect((JSON.parse(json.stdout) as { id: string }[])[0]!.id).toBe("evil\u001b]0;pwned\u0007-\u001b[2J-1");
  });

  test("a worker's log lines show a job's run id and refusal escaped (any Redis client can queue a job)", async () => {
    const jobs = uniqueName("worker-log-escape");
    const w = await startWorker(redis.url, jobs);
    const client = new QueueClient({ url: redis.url, namespace: jobs, timeoutMs: 10_000 });
    try {
      await client.connect();
      const runId = "r\u001b[2J\u009b1m";
      await client.submit({ runId, request: { text: "nodes: []\n" }, nodeTypes: ["no-such\u001b]0;t\u0007"], composite: { id: "x", name: "x" }, submittedAt: Date.now(), submitter: "test" });
      await w.waitFor(/refused/);
      expect(w.log()).not.toMatch(/[\u001b\u0007\u009b]/);
      expect(w.log()).toContain("r\\x1b[2J\\x9b1m");
    } finally {
      await client.close();
      await w.stop();
      await dropNamespace(redis.url, jobs);
    }
  });
});
