import type { Command } from "commander";
import { AtomitonError, ErrorCode } from "../../errors.js";
import { detectTerminal } from "../../reporters/detect-terminal.js";
import { DEFAULT_QUEUE_TIMEOUT_MS } from "../../queue/names.js";
import { ExitCode } from "../exit-codes.js";
import { onInterruptTwice, stopAtOnceHint } from "../interrupt-signals.js";
import { stderrStyle, stdoutStyle, type CliIO } from "../io.js";
import { nodeSpecsForCli } from "../load-catalog.js";
import { collect, durationFlag, parseRedisUrl, queueNameFrom } from "../parse-flags.js";
import { renderTable } from "../render-table.js";
import { escapeControlCharacters } from "../../terminal-text.js";

interface WorkerFlags {
  redis?: string;
  concurrency: string;
  nodes?: string[];
  queue?: string;
  queueName?: string;
  grace: string;
  lockDuration: string;
  heartbeat: string;
  color?: boolean;
}

interface WorkersFlags {
  redis?: string;
  queue?: string;
  queueName?: string;
  json?: boolean;
  color?: boolean;
}

export function registerWorker(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("worker")
    .description("Take runs off a Redis queue and execute them (queue mode, docs/queue.md)")
    .option("--redis <url>", "the queue's Redis (default: $ATOMITON_REDIS_URL)")
    .option("-c, --concurrency <n>", "runs at once on this worker", "4")
    .option("--nodes <path>", "load custom node modules (repeatable); jobs needing other types fail with E_UNKNOWN_TYPE", collect)
    .option("--queue <name>", "the queue's namespace (default: $ATOMITON_QUEUE or atomiton)")
    .option("--queue-name <name>", "the same as --queue (the spelling of run, runs and replay)")
    .option("--grace <duration>", "on SIGTERM: how long runs in flight may finish before they go back to the queue", "30s")
    .option("--lock-duration <duration>", "BullMQ job lock: renewed every third of it; a dead worker's runs move on after it", "30s")
    .option("--heartbeat <duration>", "heartbeat period shown by `atomiton workers` (a worker is unhealthy after 5 missed)", "2s")
    .addHelpText(
      "after",
      `
Examples:
  $ atomiton worker --redis redis://127.0.0.1:6379
  $ atomiton worker --redis redis://10.0.0.5:6379 --concurrency 8 --nodes ./nodes
  $ atomiton run flow.yaml --queue redis://127.0.0.1:6379     # from any machine

SIGTERM/SIGINT: take no new runs; runs in flight finish within --grace, else go back to the queue
and another worker resumes them from their last checkpoint. A second signal exits at once.
Exit codes: 0 stopped cleanly, 1 Redis did not answer while stopping (runs in flight go back to
the queue once Redis is back), 130 a second signal.`,
    )
    .action(async (flags: WorkerFlags) => {
      setExit(await workerCommand(flags, io));
    });

  program
    .command("workers")
    .description("List the live workers of a queue: heartbeat, runs in flight, last run, health")
    .option("--redis <url>", "the queue's Redis (default: $ATOMITON_REDIS_URL)")
    .option("--queue <name>", "the queue's namespace (default: $ATOMITON_QUEUE or atomiton)")
    .option("--queue-name <name>", "the same as --queue (the spelling of run, runs and replay)")
    .option("--json", "print JSON")
    .addHelpText("after", `\nExamples:\n  $ atomiton workers --redis redis://127.0.0.1:6379\n  $ atomiton workers --redis redis://127.0.0.1:6379 --json | jq '.[] | select(.healthy | not)'\n\nExit codes: 0 all listed workers healthy, 1 one is unhealthy or none is live.`)
    .action(async (flags: WorkersFlags) => {
      setExit(await workersCommand(flags, io));
    });
}

function redisUrl(given: string | undefined, io: CliIO, command: string): string {
  const url = given ?? io.env.ATOMITON_REDIS_URL;
  if (url === undefined || url === "") throw new AtomitonError(ErrorCode.USAGE, `${command} needs --redis <url>`, { retryable: false, hint: `atomiton ${command} --redis redis://127.0.0.1:6379 (or set ATOMITON_REDIS_URL)` });
  return parseRedisUrl(given === undefined ? "ATOMITON_REDIS_URL" : "--redis", url);
}

/** `--queue` or `--queue-name` (the spelling of run, runs and replay), else $ATOMITON_QUEUE, else the default. */
export function queueNamespace(flags: { queue?: string; queueName?: string }, io: CliIO): string {
  if (flags.queue !== undefined && flags.queueName !== undefined && flags.queue !== flags.queueName) {
    throw new AtomitonError(ErrorCode.USAGE, `--queue ${flags.queue} and --queue-name ${flags.queueName} name two queues`, { retryable: false, hint: "give one of them" });
  }
  return flags.queue !== undefined ? queueNameFrom("--queue", flags.queue, io.env) : queueNameFrom("--queue-name", flags.queueName, io.env);
}

/** A duration flag that always has a value (commander gives the default). */
const duration = (flag: string, value: string, min: number): number => durationFlag(flag, value, min)!;

async function workerCommand(flags: WorkerFlags, io: CliIO): Promise<number> {
  const url = redisUrl(flags.redis, io, "worker");
  const concurrency = Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new AtomitonError(ErrorCode.USAGE, `--concurrency must be a whole number ≥ 1, got ${flags.concurrency}`, { retryable: false });
  const graceMs = duration("--grace", flags.grace, 0);
  const lockDurationMs = duration("--lock-duration", flags.lockDuration, 1_000);
  const heartbeatMs = duration("--heartbeat", flags.heartbeat, 100);
  const style = stderrStyle(io, flags.color);
  // The lines of LOG_GAP_MS go out in one write: a busy worker logs a line per run, and a write
  // each (it wakes the process reading the log) was about 10% of its main thread's time
  // (docs/performance.md, "7 December 2026, fourth session"). Flushed before every exit below, and
  // at any other exit (a crash): the lines just before it are the ones that say why.
  let pending: string | undefined;
  const flush = () => {
    if (pending === undefined) return;
    const text = pending;
    pending = undefined;
    io.stderr.write(text);
  };
  process.once("exit", flush);
  const log = (line: string) => {
    if (pending === undefined) {
      pending = "";
      setTimeout(flush, LOG_GAP_MS);
    }
    // Run ids and refusals come from jobs, which any Redis client can queue: shown escaped (terminal-text.ts).
    pending += `${style.chalk.dim(`[worker ${new Date().toISOString()}]`)} ${escapeControlCharacters(line)}\n`;
  };
  // The main thread checks the custom nodes too: a broken --nodes is exit 2 at once, not a worker that refuses every job.
  const { loadCatalogForCli } = await import("../load-catalog.js");
  await loadCatalogForCli(flags.nodes ?? [], io);
  const nodeSpecs = await nodeSpecsForCli(flags.nodes ?? [], io);
  const { startQueueWorker } = await import("../../queue/worker.js");
  const worker = await startQueueWorker({
    url,
    namespace: queueNamespace(flags, io),
    concurrency,
    nodeSpecs,
    cwd: io.cwd,
    env: io.env,
    lockDurationMs,
    heartbeatMs,
    log,
  });
  onInterruptTwice(
    (signal) => {
      log(`${signal}: taking no new runs (${stopAtOnceHint(signal)})`);
      void worker.shutdown(graceMs);
    },
    () => (flush(), process.exit(ExitCode.interrupted)),
  );
  // 0: stopped cleanly (runs in flight finished or went back to the queue); 1: Redis did not answer
  // while stopping (those runs go back through the stalled-job check once Redis is back); 130: a
  // second signal exited at once. docs/queue.md "Stopping a worker".
  const clean = await worker.closed;
  log(clean ? "stopped" : "stopped without reaching Redis");
  flush();
  // Without Redis, BullMQ's and ioredis' reconnect timers would keep the process alive: exit now.
  if (!clean) process.exit(ExitCode.runFailed);
  return ExitCode.ok;
}

/** How far a worker's log may lag behind its runs. */
const LOG_GAP_MS = 50;

async function workersCommand(flags: WorkersFlags, io: CliIO): Promise<number> {
  const url = redisUrl(flags.redis, io, "workers");
  const namespace = queueNamespace(flags, io);
  const { QueueClient } = await import("../../queue/client.js");
  const client = new QueueClient({ url, namespace, timeoutMs: DEFAULT_QUEUE_TIMEOUT_MS / 3 });
  try {
    await client.connect();
    const now = Date.now();
    const workers = await client.workers(now);
    if (flags.json) {
      io.stdout.write(`${JSON.stringify(workers, null, 2)}\n`);
    } else if (workers.length === 0) {
      io.stdout.write(`no live workers on ${client.shown} (queue ${namespace}); start one with: atomiton worker --redis <url>\n`);
    } else {
      const s = stdoutStyle(io, flags.color);
      const ago = (t: number | undefined) => (t === undefined ? "-" : `${(Math.max(0, now - t) / 1000).toFixed(1)}s ago`);
      // Ids, run ids and problems come from Redis (any client can write there): escaped before colours.
      const safe = escapeControlCharacters;
      const rows = workers.map((w) => [
        safe(w.id),
        w.healthy ? s.chalk.green(w.state === "draining" ? "draining" : "healthy") : s.chalk.red(`unhealthy: ${safe(w.problem ?? "")}`),
        `${w.inFlight}/${w.concurrency}`,
        safe(w.runs.join(" ")) || "-",
        w.lastJob ? `${safe(w.lastJob)} (${ago(w.lastJobAt)})` : "-",
        ago(w.heartbeatAt),
        ago(w.lastFetchAt),
      ]);
      io.stdout.write(
        renderTable(
          [{ header: "WORKER" }, { header: "HEALTH", shrink: true }, { header: "RUNS", align: "right" }, { header: "IN FLIGHT", shrink: true }, { header: "LAST RUN", shrink: true }, { header: "HEARTBEAT" }, { header: "FETCHED" }],
          rows,
          { header: (t) => s.chalk.bold(t), ...(io.stdout.isTTY ? { maxWidth: detectTerminal({ stream: io.stdout, env: io.env }).columns } : {}) },
        ),
      );
    }
    return workers.length > 0 && workers.every((w) => w.healthy) ? ExitCode.ok : ExitCode.runFailed;
  } finally {
    await client.close();
  }
}
