import { AtomitonError, CancelledError, ErrorCode } from "../../errors.js";
import type { RunEvent } from "../../events/event-map.js";
import { createRunId } from "../../conductor/create-conductor.js";
import { createReporter, parseReporterName } from "../../reporters/create-reporter.js";
import { report, type Reporter } from "../../reporters/types.js";
import type { RunRecord } from "../../conductor/run-recorder.js";
import { isLostRedis, QueueClient } from "../../queue/client.js";
import { finishOfRecord, JobWatch } from "../../queue/job-watch.js";
import { DEFAULT_QUEUE, DEFAULT_QUEUE_TIMEOUT_MS, type RunJob } from "../../queue/names.js";
import { nodeTypesOf } from "../../queue/run-job.js";
import { ExitCode } from "../exit-codes.js";
import { onInterruptTwice, showCursor, stopAtOnceHint } from "../interrupt-signals.js";
import { stderrStyle, type CliIO } from "../io.js";
import { checkVarFlags, parseInput, parseSets, parseVars, durationFlag, parseRedisUrl, queueNameFrom } from "../parse-flags.js";
import { KnownSecrets } from "../known-secrets.js";
import { renderProblems, summarizeProblems } from "../print-problems.js";
import { writeOutput } from "../write-output.js";
import { bundleComposite } from "./run-remote.js";
import type { RunFlags } from "./run.js";
import { predecessorsOf } from "../timeline/dependencies.js";

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
  parseRedisUrl("--queue", flags.queue);
  const timeout = durationFlag("--timeout", flags.timeout);
  const queueTimeoutMs = durationFlag("--queue-timeout", flags.queueTimeout, 1) ?? DEFAULT_QUEUE_TIMEOUT_MS;
  const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) throw new AtomitonError(ErrorCode.USAGE, `--concurrency must be a whole number ≥ 1, got ${flags.concurrency}`, { retryable: false });
  const style = stderrStyle(io, flags.color);
  const namespace = queueNameFrom("--queue-name", flags.queueName, io.env);

  // Validate here first: an invalid composite is exit 2 before anything is queued.
  const vars = flags.var ? parseVars(flags.var) : undefined;
  const sets = parseSets(flags.set ?? []);
  // One read of the file, validated as it is sent (a pipe gives its text only once).
  const bundle = await bundleComposite(target, flags, io, { overrides: sets, variables: Object.keys(vars ?? {}), strict: flags.strict ?? false });
  const loaded = bundle.loaded;
  // A --set/--var value that is a secret's value is redacted from the problems (KnownSecrets).
  const secrets = new KnownSecrets(io.env, flags.secret ?? []);
  secrets.addComposite(loaded.composite?.secrets ?? []);
  const problems = secrets.problems(loaded.problems);
  if (problems.length > 0) io.stderr.write(renderProblems(problems, loaded.sources, style));
  if (!loaded.ok || !loaded.composite) {
    io.stderr.write(`${style.chalk.red(`${style.symbols.failed} not run:`)} ${summarizeProblems(problems)}; nothing was queued\n`);
    return ExitCode.invalid;
  }
  // As a local run does: an unknown --var or a value of the wrong type is a usage error before anything is queued.
  if (vars) checkVarFlags(loaded.composite, vars);
  const runId = createRunId();
  const job: RunJob = {
    runId,
    request: {
      text: bundle.text,
      file: bundle.file,
      files: bundle.files,
      ...(flags.input ? { input: await parseInput(flags.input, io.cwd) } : {}),
      ...(vars ? { vars } : {}),
      ...(sets.length > 0 ? { set: Object.fromEntries(sets.map((o) => [`${o.nodeId}.${o.param}`, o.value])) } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(timeout !== undefined ? { timeout } : {}),
    },
    nodeTypes: nodeTypesOf(loaded.composite),
    composite: { id: loaded.composite.id, name: loaded.composite.name, secrets: loaded.composite.secrets },
    submittedAt: Date.now(),
    submitter: QueueClient.submitter(),
  };

  const client = new QueueClient({ url: flags.queue, namespace, timeoutMs: queueTimeoutMs });
  const edges = predecessorsOf(loaded.composite);
  const reporter = await createReporter(reporterName, { stdout: io.stdout, stderr: io.stderr, env: io.env, predecessors: (id) => edges.get(id), ...(flags.color === false ? { color: false } : {}) });
  let finish: Extract<RunEvent, { type: "run:finish" }> | undefined;
  let cancelling = false;
  let started = false;
  /** Ends the follow when the run was taken off the queue while no worker held it. */
  const withdrawn = new AbortController();
  let withdrawnFrom: "waiting" | "stalled" | undefined;
  const takeOff = async (): Promise<boolean> => {
    const from = await client.withdraw(runId).catch(() => false as const);
    if (from === false) return false;
    withdrawnFrom = from;
    withdrawn.abort();
    return true;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    // Not "on its worker": a run still waiting for one is taken off the queue instead (the next line says which).
    io.stderr.write(`\n${signal} received: cancelling run ${runId} (${stopAtOnceHint(signal)})\n`);
    cancelling = true;
    void (async () => {
      // No worker holds it (waiting for one, never started or handed back; or its worker died or froze):
      // off the queue now, rather than waiting for a worker to take it and cancel it.
      if (await takeOff()) return;
      await client.cancel(runId);
    })().catch((error: Error) => {
      // Redis is away (its reconnects gave up): nobody can be told, and waiting on would not stop the run either.
      io.stderr.write(`cannot send the cancel: ${error.message}; run ${runId} may go on on its worker (${recordHint})\n`);
      showCursor(io.stderr);
      process.exit(ExitCode.interrupted);
    });
  };
  const stopSignals = onInterruptTwice(onSignal, () => {
    showCursor(io.stderr);
    process.exit(ExitCode.interrupted);
  });
  const printsEvents = flags.reporter === "json" || flags.reporter === "junit";
  const recordHint = `atomiton runs show ${runId} --storage redis --redis ${client.shown}${namespace !== DEFAULT_QUEUE ? ` --queue-name ${namespace}` : ""}`;
  try {
    await client.connect();
    await client.submit(job);
    if (!printsEvents) io.stderr.write(style.chalk.dim(`run ${runId} queued on ${client.shown} (queue ${namespace})\n`));
    const announceRestart = (): void => {
      if (!printsEvents) io.stderr.write(style.chalk.yellow(`run ${runId}: its worker was lost or handed it back; another worker resumes it from the last checkpoint\n`));
    };
    const watch = new JobWatch(client, runId, recordHint);
    await client
      .follow(runId, {
        signal: withdrawn.signal,
        onLine: ({ line }) => {
          let event: RunEvent;
          try {
            event = JSON.parse(line) as RunEvent;
          } catch {
            return;
          }
          // A second run:start: a new attempt of the run (its worker died or handed it back) follows
          // the first one's events in the same log.
          if (event.type === "run:start" && started) announceRestart();
          started = true;
          watch.sawLines();
          report(reporter, event);
          if (event.type === "run:finish") finish = event;
        },
        onRestart: () => announceRestart(),
        isDone: () => finish !== undefined,
        check: async () => {
          // Ended on its worker (or gone from the queue), yet no run:finish on the stream: the lines
          // were lost (the worker's writes gave up while Redis was away). The record has the outcome.
          const ended = await watch.check();
          if (ended !== undefined) finish = finishFromRecord(ended, runId, reporter, io, style.chalk.yellow);
          // Cancelling, and no worker holds the run any more (its worker died or handed it back since):
          // nobody would hear the cancel, so it comes off the queue; a waiting job that could not be
          // taken off gets the cancel again, for the worker that takes it.
          if (!cancelling || (watch.state !== "waiting" && !watch.stalled)) return;
          if (!(await takeOff()) && watch.state === "waiting") await client.cancel(runId).catch(() => undefined);
        },
      })
      .catch(async (error: unknown) => {
        if (!(error instanceof AtomitonError) || error.code !== ErrorCode.QUEUE_UNAVAILABLE) throw error;
        // Redis itself is gone: withdrawing or reading the job would wait through another round of reconnects.
        if (isLostRedis(error)) throw error;
        // Waiting for a worker (never started, or handed back by its worker) and none is live, or Redis
        // is gone: off the queue, so it does not run later unseen.
        const off = await client.withdraw(runId).catch(() => false);
        if (off) await client.recordNotRun(job, "failed", error, io.env);
        else if (started || ["failed", "completed"].includes((await client.jobState(runId).catch(() => ({ state: "unknown" }))).state)) throw error;
        throw new AtomitonError(error.code, `${error.message}; ${off ? "the run was taken off the queue: it will not run later" : "the run may still be queued and run once a worker takes it"}`, {
          retryable: error.retryable,
          ...(error.hint !== undefined ? { hint: error.hint } : {}),
        });
      });
    if (withdrawn.signal.aborted && finish === undefined) {
      const when =
        withdrawnFrom === "stalled"
          ? "after its worker stopped (its lock expired)"
          : started
            ? "while it waited for another worker (its worker had handed it back)"
            : "before any worker started it";
      await client.recordNotRun(job, "cancelled", new CancelledError(`cancelled ${when}`), io.env);
      io.stderr.write(`run ${runId} cancelled: taken off the queue ${when}\n`);
      return ExitCode.interrupted;
    }
  } finally {
    stopSignals();
    await reporter.close?.();
    await client.close();
  }
  if (finish!.output !== undefined) await writeOutput(finish!.output, { file: flags.output, stdout: printsEvents ? undefined : io.stdout, cwd: io.cwd });
  if (!printsEvents) io.stderr.write(style.chalk.dim(`run ${runId} ran on the queue; its record: ${recordHint}\n`));
  return finish!.status === "succeeded" ? ExitCode.ok : finish!.status === "cancelled" ? ExitCode.interrupted : ExitCode.runFailed;
}

/** A run:finish made from the run's final record, reported like a streamed one (with a warning). */
function finishFromRecord(record: RunRecord, runId: string, reporter: Reporter, io: CliIO, warn: (text: string) => string): Extract<RunEvent, { type: "run:finish" }> {
  io.stderr.write(warn(`run ${runId}: its worker finished it, but events were lost from its stream (Redis was unreachable while it ran); the outcome below is its record's\n`));
  const event: Extract<RunEvent, { type: "run:finish" }> = { type: "run:finish", ...finishOfRecord(record) };
  report(reporter, event);
  return event;
}
