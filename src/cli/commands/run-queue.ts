import path from "node:path";
import { AtomitonError, ErrorCode } from "../../errors.js";
import type { RunEvent } from "../../events/event-map.js";
import { createRunId } from "../../conductor/create-conductor.js";
import { loadComposite } from "../../composite/load-composite.js";
import { createReporter, parseReporterName } from "../../reporters/create-reporter.js";
import { report } from "../../reporters/types.js";
import { QueueClient } from "../../queue/client.js";
import { DEFAULT_QUEUE, DEFAULT_QUEUE_TIMEOUT_MS, type RunJob } from "../../queue/names.js";
import { nodeTypesOf } from "../../queue/run-job.js";
import { ExitCode } from "../exit-codes.js";
import { onInterrupt } from "../interrupt-signals.js";
import { stderrStyle, type CliIO } from "../io.js";
import { loadCatalogForCli } from "../load-catalog.js";
import { parseInput, parseSets, parseVars, durationFlag } from "../parse-flags.js";
import { renderProblems, summarizeProblems } from "../print-problems.js";
import { writeOutput } from "../write-output.js";
import { bundleComposite } from "./run-remote.js";
import type { RunFlags } from "./run.js";

export interface QueueFlags extends RunFlags {
  queue: string;
  queueName?: string;
  queueTimeout?: string;
}


/**
 * `atomiton run <file> --queue redis://…` (SPEC §10): validate here, queue the run (the composite
 * with its `ref:` files, as `run.start` sends them), follow its event stream and render it with a
 * local reporter, exit with the run's code. Ctrl-C cancels the run on its worker.
 */
export async function runQueued(target: string | undefined, flags: QueueFlags, io: CliIO): Promise<number> {
  const reporterName = parseReporterName(flags.reporter);
  if (target === undefined) throw new AtomitonError(ErrorCode.USAGE, "run --queue needs a composite file", { retryable: false, hint: "atomiton run flow.yaml --queue redis://127.0.0.1:6379" });
  if (!/^rediss?:\/\//.test(flags.queue)) throw new AtomitonError(ErrorCode.USAGE, `--queue: expected a redis:// or rediss:// URL, got ${flags.queue}`, { retryable: false });
  const timeout = durationFlag("--timeout", flags.timeout);
  const queueTimeoutMs = durationFlag("--queue-timeout", flags.queueTimeout, 1) ?? DEFAULT_QUEUE_TIMEOUT_MS;
  const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) throw new AtomitonError(ErrorCode.USAGE, `--concurrency must be a whole number ≥ 1, got ${flags.concurrency}`, { retryable: false });
  const style = stderrStyle(io, flags.color);
  const namespace = flags.queueName ?? (io.env.ATOMITON_QUEUE || DEFAULT_QUEUE);

  // Validate here first: an invalid composite is exit 2 before anything is queued.
  const main = path.resolve(io.cwd, target);
  const bundle = await bundleComposite(main, flags, io);
  const vars = flags.var ? parseVars(flags.var) : undefined;
  const sets = parseSets(flags.set ?? []);
  const catalog = await loadCatalogForCli(flags.nodes ?? [], io);
  const loaded = await loadComposite(main, { catalog, overrides: sets, variables: Object.keys(vars ?? {}), strict: flags.strict ?? false });
  if (loaded.problems.length > 0) io.stderr.write(renderProblems(loaded.problems, loaded.sources, style));
  if (!loaded.ok || !loaded.composite) {
    io.stderr.write(`${style.chalk.red(`${style.symbols.failed} not run:`)} ${summarizeProblems(loaded.problems)}; nothing was queued\n`);
    return ExitCode.invalid;
  }
  const runId = createRunId();
  const job: RunJob = {
    runId,
    request: {
      text: bundle.text,
      file: bundle.file,
      files: bundle.files,
      ...(flags.input ? { input: parseInput(flags.input, io.cwd) } : {}),
      ...(vars ? { vars } : {}),
      ...(sets.length > 0 ? { set: Object.fromEntries(sets.map((o) => [`${o.nodeId}.${o.param}`, o.value])) } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(timeout !== undefined ? { timeout } : {}),
    },
    nodeTypes: nodeTypesOf(loaded.composite),
    composite: { id: loaded.composite.id, name: loaded.composite.name },
    submittedAt: Date.now(),
    submitter: QueueClient.submitter(),
  };

  const client = new QueueClient({ url: flags.queue, namespace, timeoutMs: queueTimeoutMs });
  const reporter = await createReporter(reporterName, { stdout: io.stdout, stderr: io.stderr, env: io.env, ...(flags.color === false ? { color: false } : {}) });
  let finish: Extract<RunEvent, { type: "run:finish" }> | undefined;
  let cancelling = false;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(ExitCode.interrupted);
    io.stderr.write(`\n${signal} received: cancelling run ${runId} on its worker (press Ctrl-C again to exit at once)\n`);
    cancelling = true;
    void client.cancel(runId).catch((error: Error) => io.stderr.write(`cannot send the cancel: ${error.message}\n`));
  };
  const stopSignals = onInterrupt(onSignal);
  const printsEvents = flags.reporter === "json" || flags.reporter === "junit";
  try {
    await client.connect();
    await client.submit(job);
    if (!printsEvents) io.stderr.write(style.chalk.dim(`run ${runId} queued on ${client.shown} (queue ${namespace})\n`));
    let waitingSince = Date.now();
    let started = false;
    await client.follow(runId, {
      onLine: ({ line }) => {
        let event: RunEvent;
        try {
          event = JSON.parse(line) as RunEvent;
        } catch {
          return;
        }
        started = true;
        report(reporter, event);
        if (event.type === "run:finish") finish = event;
      },
      onRestart: () => {
        if (!printsEvents) io.stderr.write(style.chalk.yellow(`run ${runId}: its worker was lost; another worker resumes it from the last checkpoint\n`));
      },
      isDone: () => finish !== undefined,
      check: async () => {
        const { state, failedReason } = await client.jobState(runId);
        if (state === "failed" && finish === undefined) {
          throw new AtomitonError(ErrorCode.QUEUE_UNAVAILABLE, `run ${runId} failed in the queue: ${failedReason ?? "no reason given"}`, { retryable: false, hint: `atomiton runs show ${runId} --storage redis --redis <url>` });
        }
        if (state === "active") waitingSince = Date.now();
        if (!started || state === "waiting" || state === "prioritized") await client.assertWorkersAlive(runId, waitingSince);
        if (cancelling && state === "waiting") await client.cancel(runId).catch(() => undefined);
      },
    });
  } finally {
    stopSignals();
    await reporter.close?.();
    await client.close();
  }
  if (finish!.output !== undefined) await writeOutput(finish!.output, { file: flags.output, stdout: printsEvents ? undefined : io.stdout, cwd: io.cwd });
  if (!printsEvents) io.stderr.write(style.chalk.dim(`run ${runId} ran on the queue; its record: atomiton runs show ${runId} --storage redis --redis <url>\n`));
  return finish!.status === "succeeded" ? ExitCode.ok : finish!.status === "cancelled" ? ExitCode.interrupted : ExitCode.runFailed;
}
