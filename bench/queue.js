// Queue mode (issue 14, SPEC §10): runs/s of no-op 10-node runs through `atomiton worker`s with 1
// and 2 workers, next to bare BullMQ jobs/s (a Worker whose processor returns at once) measured in
// the same run, on the same Redis, with the same number of worker processes and the same
// concurrency; and submit-to-start latency (job added → the run's run:start event), p50 and p99.
//
// Redis: a redis-server of its own on a free port in a temp dir (nothing persisted), or
// ATOMITON_BENCH_REDIS_URL when set (its bench-* keys are removed at the end). Loopback only.
//
//   node bench/queue.js [--quick] [--cli path/to/cli.js]
//
// Exported as `benchQueue` for bench/run.js.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Queue } from "bullmq";
import { median, round } from "./stats.js";

const CONCURRENCY = 8;
const here = path.dirname(fileURLToPath(import.meta.url));

const TEN = (() => {
  const nodes = Array.from({ length: 10 }, (_, i) => `  - { id: n${i}, type: edit-fields, parameters: { values: { step: ${i} } } }`);
  const edges = Array.from({ length: 9 }, (_, i) => `n${i} -> n${i + 1}`);
  return `id: ten\nname: Ten\nnodes:\n${nodes.join("\n")}\nedges: [${edges.join(", ")}]\n`;
})();

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const given = process.env.ATOMITON_BENCH_REDIS_URL;
  if (given) return { url: given, stop: () => dropBenchKeys(given) };
  if (spawnSync("redis-server", ["--version"]).error) throw new Error("no redis-server (apt-get install redis-server) and no ATOMITON_BENCH_REDIS_URL");
  const dir = mkdtempSync(path.join(tmpdir(), "atomiton-bench-redis-"));
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  await new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      if (/Ready to accept connections/.test(out)) resolve();
    });
    child.once("exit", (code) => reject(new Error(`redis-server exited ${code}: ${out}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () => new Promise((r) => (child.once("exit", () => (rmSync(dir, { recursive: true, force: true }), r())), child.kill("SIGTERM"))),
  };
}

/** On a Redis of the user's: removes the keys of this bench's namespaces (they all end with its pid). */
async function dropBenchKeys(url) {
  const { Redis } = await import("ioredis");
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    for await (const keys of redis.scanStream({ match: `bench-*-${process.pid}:*`, count: 1000 })) if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/** A worker process (atomiton's, or the bare BullMQ one), resolved once it takes jobs. */
function startProcess(argv, ready) {
  const child = spawn(process.execPath, argv, { env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  // Stopping twice (once in order, once in the bench's `finally`) must not wait for a second exit.
  const exited = new Promise((r) => child.once("exit", r));
  const stop = () => (child.exitCode === null && child.signalCode === null && child.kill("SIGTERM"), exited);
  return new Promise((resolve, reject) => {
    const onData = (d) => {
      log += d;
      if (ready.test(log)) resolve({ child, stop });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`worker exited ${code}: ${log.slice(-500)}`)));
  });
}

/** Adds `count` jobs at once and waits until every one has completed; jobs per second. */
async function drain(queue, jobs) {
  const started = process.hrtime.bigint();
  await queue.addBulk(jobs);
  for (;;) {
    const counts = await queue.getJobCounts("completed", "failed");
    if (counts.failed > 0) throw new Error(`${counts.failed} job(s) failed`);
    if (counts.completed >= jobs.length) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  return jobs.length / (Number(process.hrtime.bigint() - started) / 1e9);
}

function runJob(runId, i) {
  const job = { runId, request: { text: TEN, file: "ten.yaml", input: { i } }, nodeTypes: ["edit-fields"], composite: { id: "ten", name: "Ten" }, submittedAt: Date.now(), submitter: "bench" };
  return { name: "run", data: job, opts: { jobId: runId, attempts: 1 } };
}

export async function benchQueue({ cli, distIndex, quick = false, progress = () => {} }) {
  const { createRunId, createStorage } = await import(distIndex);
  const count = quick ? 100 : 1000;
  const redis = await startRedis();
  const stops = [];
  try {
    const result = { count, concurrency: CONCURRENCY, workers: {} };
    for (const n of [1, 2]) {
      // atomiton workers: a namespace each, so every figure starts from an empty queue.
      progress(`queue: ${count} runs of a 10-node composite, ${n} worker(s)`);
      const ns = `bench-q${n}-${process.pid}`;
      const workers = await Promise.all(Array.from({ length: n }, () => startProcess([...cli, "worker", "--redis", redis.url, "--queue", ns, "--concurrency", String(CONCURRENCY)], /taking runs from/)));
      stops.push(...workers.map((w) => w.stop));
      const queue = new Queue("runs", { connection: { url: redis.url }, prefix: `${ns}:bull` });
      const warm = Array.from({ length: 20 }, (_, i) => runJob(createRunId(), i));
      await drain(queue, warm);
      await queue.clean(0, 10_000, "completed");
      const runsPerSecond = await drain(queue, Array.from({ length: count }, (_, i) => runJob(createRunId(), i)));
      await queue.close();
      await Promise.all(workers.map((w) => w.stop()));

      progress(`queue: ${count} bare BullMQ jobs, ${n} worker(s)`);
      const bareNs = `bench-bare${n}-${process.pid}`;
      const bare = await Promise.all(Array.from({ length: n }, () => startProcess([path.join(here, "bullmq-bare-worker.js"), redis.url, `${bareNs}:bull`, String(CONCURRENCY)], /ready/)));
      stops.push(...bare.map((w) => w.stop));
      const bareQueue = new Queue("runs", { connection: { url: redis.url }, prefix: `${bareNs}:bull` });
      await drain(bareQueue, Array.from({ length: 20 }, (_, i) => ({ name: "job", data: { i } })));
      await bareQueue.clean(0, 10_000, "completed");
      const bareJobsPerSecond = await drain(bareQueue, Array.from({ length: count }, (_, i) => ({ name: "job", data: { i } })));
      await bareQueue.close();
      await Promise.all(bare.map((w) => w.stop()));
      result.workers[n] = { runsPerSecond, bareJobsPerSecond, ratio: runsPerSecond / bareJobsPerSecond };
    }

    // Submit-to-start: one idle worker, one run at a time; the run's run:start event is stamped by
    // the worker's engine on the same machine's clock.
    progress("queue: submit-to-start latency");
    const ns = `bench-lat-${process.pid}`;
    const worker = await startProcess([...cli, "worker", "--redis", redis.url, "--queue", ns, "--concurrency", String(CONCURRENCY)], /taking runs from/);
    stops.push(worker.stop);
    const queue = new Queue("runs", { connection: { url: redis.url }, prefix: `${ns}:bull` });
    const storage = createStorage({ type: "redis", url: redis.url, prefix: ns });
    const samples = [];
    const rounds = quick ? 20 : 200;
    for (let i = 0; i < rounds; i++) {
      const runId = createRunId();
      const job = runJob(runId, i);
      job.data.submittedAt = Date.now();
      await drain(queue, [job]);
      await queue.clean(0, 10_000, "completed");
      const log = (await storage.loadText(`runs/${runId}.ndjson`)) ?? "";
      const start = log.split("\n").map((l) => (l ? JSON.parse(l) : undefined)).find((e) => e?.type === "run:start");
      if (start === undefined) throw new Error(`run ${runId}: no run:start in its event log`);
      if (i >= 5) samples.push(start.ts - job.data.submittedAt);
    }
    await queue.close();
    await storage.close?.();
    await worker.stop();
    const sorted = [...samples].sort((a, b) => a - b);
    result.latency = { p50: median(samples), p99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))], rounds: samples.length };
    return result;
  } finally {
    await Promise.allSettled(stops.map((s) => s()));
    await redis.stop();
  }
}

export function queueRows(r, row) {
  for (const n of [1, 2]) {
    const w = r.workers[n];
    row(`queue · no-op 10-node runs/s, ${n} worker(s) × ${r.concurrency}`, w.runsPerSecond, "runs/s");
    row(`queue · bare BullMQ jobs/s, ${n} worker(s) × ${r.concurrency}`, w.bareJobsPerSecond, "jobs/s");
    row(`queue · runs/s ÷ bare BullMQ jobs/s, ${n} worker(s)`, w.ratio * 100, "%", ["≥", 70]);
  }
  row("queue · submit-to-start latency p50", r.latency.p50, "ms");
  row("queue · submit-to-start latency p99", r.latency.p99, "ms");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const quick = args.includes("--quick");
  const cliArg = args.indexOf("--cli");
  const root = path.resolve(here, "..");
  const cli = cliArg >= 0 ? [path.resolve(args[cliArg + 1])] : [path.join(root, "bin", "atomiton.js")];
  const distIndex = pathToFileURL(path.join(root, "dist", "index.js")).href;
  const result = await benchQueue({ cli, distIndex, quick, progress: (w) => process.stderr.write(`  … ${w}\n`) });
  // Rows only; targets are judged by bench/run.js.
  queueRows(result, (name, value, unit) => process.stdout.write(`${name.padEnd(58)} ${String(round(value, 3)).padStart(10)} ${unit}\n`));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
