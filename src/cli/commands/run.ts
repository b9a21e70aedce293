import { existsSync, statSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { loadStoredComposite } from "../../serve/load-source.js";
import { checkStdinReadOnce, loadCompositeArg, STDIN_ARG, STDIN_NAME } from "../composite-arg.js";
import { createConductor } from "../../conductor/create-conductor.js";
import { resolveWorkdir } from "../../conductor/workdir.js";
import { nodesUnderTheirIds } from "../../conductor/secret-values.js";
import { guardRun, trapSignals } from "../run-guards.js";
import { KnownSecrets, withRedactedErrors } from "../known-secrets.js";
import { AtomitonError, CancelledError, ErrorCode } from "../../errors.js";
import { createEventBus } from "../../events/create-event-bus.js";
import type { RunEvent, RunEventMap } from "../../events/event-map.js";
import { createReporter, parseReporterName, REPORTER_NAMES } from "../../reporters/create-reporter.js";
import { report, reporterListens } from "../../reporters/types.js";
import { stringifyJsonSafe } from "../../events/json-safe.js";
import { ExitCode } from "../exit-codes.js";
import { stderrStyle, stdoutStyle, type CliIO } from "../io.js";
import { loadCatalogForCli } from "../load-catalog.js";
import { checkVarFlags, collect, parseInput, parseSets, parseVars, durationFlag } from "../parse-flags.js";
import { renderProblems, summarizeProblems } from "../print-problems.js";
import { openStorage, renderStorageLocation } from "../open-storage.js";
import { reportInvalidForCi } from "../validation-report.js";
import { settingLocation } from "../setting-location.js";
import { checkOutputTarget, removeStaleOutput, writeOutput } from "../write-output.js";
import { startPhaseSpinner } from "../phase-spinner.js";
import { planJson, renderPlan } from "../render-plan.js";
import { runRecordKey, type RunRecord } from "../../conductor/run-recorder.js";
import { checkNodeIds, earlierSecretNames, earlierValue, parsePins, recordedUpstreamOutputs } from "../pins.js";
import type { TtyDebugger } from "../debug/tty-debugger.js";
import { runLiveness } from "../../conductor/run-liveness.js";
import type { Storage } from "../../storage/types.js";
import { didYouMean } from "../../composite/suggest.js";
import { allNodeIds, type Composite } from "../../composite/model.js";
import { buildRunProfile } from "../timeline/build-profile.js";
import { checkElsewhereFlags, checkFlagsHaveTheirMode } from "./run-elsewhere.js";
import { resumeNotes } from "../resume-notes.js";
import { claimResume } from "../resume-claim.js";
import { predecessorsOf } from "../timeline/dependencies.js";
import { renderTrace } from "../timeline/render-trace.js";
import { writeTextFile } from "../timeline/timeline-output.js";

export interface RunFlags {
  input?: string[];
  var?: string[];
  set?: string[];
  reporter: string;
  nodes?: string[];
  concurrency?: string;
  timeout?: string;
  storage: string;
  dataDir?: string;
  redis?: string;
  output?: string;
  color?: boolean;
  strict?: boolean;
  secret?: string[];
  resume?: string;
  dryRun?: boolean;
  watch?: boolean;
  debounce?: string;
  remote?: string;
  token?: string;
  queue?: string;
  queueName?: string;
  queueTimeout?: string;
  profile?: string;
  workdir?: string;
  pin?: string[];
  break?: string[];
  step?: boolean;
  breakOnError?: boolean;
  /** `replay <runId> --from <nodeId>` (not run flags): re-run that run from that node. */
  replayOf?: string;
  from?: string;
}

export function registerRun(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("run")
    .description("Validate and run a composite file (or a stored composite id), with live progress")
    .argument("[file|id]", "a composite YAML file, - to read it from stdin, or the id of a composite in storage (optional with --resume)")
    .option("-i, --input <value>", "run input: JSON, @file.json|yaml, or k=v (repeatable)", collect)
    .option("--var <k=v>", "override a variable, coerced to its declared type (repeatable)", collect)
    .option("--set <node.param=value>", "override a node parameter (repeatable)", collect)
    .option("-r, --reporter <name>", `progress output: ${REPORTER_NAMES.join("|")}`, "auto")
    .option("--nodes <path>", "load custom node modules from a file, directory or package (repeatable)", collect)
    .option("-c, --concurrency <n>", "nodes running at once (default: settings.concurrency, else 16)")
    .option("--timeout <duration>", "whole-run timeout, e.g. 30s, 5m, 600h; 0 = none (overrides settings.timeout)")
    .option("--storage <type>", "filesystem, memory (keeps nothing) or redis (with --redis)", "filesystem")
    .option("--redis <url>", "with --storage redis: where records go (default: $ATOMITON_REDIS_URL)")
    .option("--data-dir <dir>", "where run records go (default: $ATOMITON_DATA_DIR or ./.atomiton)")
    .option("--workdir <dir>", "where relative paths in node parameters resolve (default: settings.workdir, relative to the composite file, else the current directory)")
    .option("-o, --output <file>", "write the run's output to a file, or - for stdout only")
    .option("--secret <ENV_NAME>", "redact this env var's value everywhere (repeatable)", collect)
    .option("--strict", "treat validation warnings as errors")
    .option("--dry-run", "validate and print the plan by levels; run nothing, save nothing")
    .option("--resume <runId>", "re-run a stored run: reuse outputs of unchanged nodes, run the failed and changed ones and everything downstream")
    .option("-w, --watch", "re-run on every change of the file, its ref: files, the config and custom node files (cancels the run in flight)")
    .option("--debounce <ms>", "with --watch: quiet time after the last change before re-running (default 150)")
    .option("--remote <url>", "run on an `atomiton serve` (ws://host:port): send the composite and its ref: files, render its events here")
    .option("--token <token>", "with --remote: the server's token (default: $ATOMITON_TOKEN)")
    .option("--queue <url>", "queue the run on Redis (redis://host:port) for `atomiton worker`s; follow and render its events here")
    .option("--queue-name <name>", "with --queue: the queue's namespace (default: $ATOMITON_QUEUE or atomiton)")
    .option("--queue-timeout <duration>", "with --queue: fail with E_QUEUE_UNAVAILABLE after Redis or every worker is gone this long (default 30s)")
    .option("--profile <file>", "measure each node (queue wait, CPU time, heap growth: kept in the run record) and, when the run ends, write the Chrome trace (Perfetto, chrome://tracing, speedscope) to this file")
    .option("--pin <id=json|@file>", "the node returns this value without running (a deterministic mock; repeatable)", collect)
    .option("--break <id>", "pause before this node (in a loop body: every iteration) and open the debugger prompt (repeatable; needs a terminal)", collect)
    .option("--step", "pause before every node (needs a terminal)")
    .option("--break-on-error", "pause when a node fails: fix a parameter with set, then r retries it (needs a terminal)")
    .addHelpText(
      "after",
      `
Examples:
  $ atomiton run examples/hello.yaml
  $ atomiton run flow.yaml --input '{"name":"Ada"}' --var limit=5
  $ atomiton run report.yaml --set read.path=data/sales.csv --reporter plain
  $ atomiton run flow.yaml --reporter json > events.ndjson
  $ atomiton run my-stored-flow --data-dir ./.atomiton
  $ atomiton run flow.yaml --dry-run
  $ atomiton run flow.yaml --watch --nodes ./nodes
  $ atomiton run flow.yaml --resume 20261124T113205-3f9a2c
  $ atomiton run flow.yaml --remote ws://127.0.0.1:7437
  $ atomiton run flow.yaml --queue redis://127.0.0.1:6379
  $ atomiton run flow.yaml --profile run.trace.json     # then open it in ui.perfetto.dev
  $ atomiton run flow.yaml --pin fetch='{"status":200,"body":[]}' --pin llm=@answer.json
  $ atomiton run flow.yaml --break transform --break-on-error   # then c, s, k, set p=v, p <expr>, o <id>, r, q

Exit codes: 0 succeeded, 1 the run failed, 2 invalid usage or composite, 130 interrupted (SIGINT, SIGTERM or SIGHUP).`,
    )
    .action(async (target: string | undefined, flags: RunFlags, command: Command) => {
      if (flags.queue !== undefined || flags.remote !== undefined) checkElsewhereFlags(flags, command);
      checkFlagsHaveTheirMode(flags, command);
      if (flags.queue !== undefined || flags.remote !== undefined) {
        // Before anything is sent or queued, as a local run checks it (runKnowing); errors redacted alike.
        checkOutputTarget(flags.output, io.cwd);
        const secrets = new KnownSecrets(io.env, flags.secret ?? []);
        const { queue, remote } = flags;
        const elsewhere =
          queue !== undefined
            ? async () => (await import("./run-queue.js")).runQueued(target, { ...flags, queue }, io)
            : async () => (await import("./run-remote.js")).runRemote(target, { ...flags, remote: remote! }, io);
        return setExit(await withRedactedErrors(secrets, targetFile(target, io), elsewhere));
      }
      const debug = hasDebugFlags(flags) ? await createTtyDebugger(flags, io, process.stdin) : undefined;
      if (flags.watch) {
        const { runWatch, isForegroundJob } = await import("../watch/run-watch.js");
        // The debugger prompt owns stdin: watch's single-key commands (q, r) are off while debugging, and in a background job (`&`).
        const host = { runOnce: (signal: AbortSignal) => runCommand(target, flags, io, { signal, ...(debug ? { debug } : {}) }), ...(debug || !isForegroundJob() ? {} : { stdin: process.stdin }), signals: process, forceExit: (code: number) => process.exit(code) };
        return setExit(await runWatch(target, flags, io, host));
      }
      setExit(await runCommand(target, flags, io, debug ? { debug } : {}));
    });
}

function hasDebugFlags(flags: RunFlags): boolean {
  return (flags.break?.length ?? 0) > 0 || flags.step === true || flags.breakOnError === true;
}

/** `--break`/`--step`/`--break-on-error` need a terminal to prompt on (or the protocol: `atomiton serve`, debug.*). */
async function createTtyDebugger(flags: RunFlags, io: CliIO, stdin: NodeJS.ReadStream): Promise<TtyDebugger> {
  const flag = flags.break?.length ? "--break" : flags.step ? "--step" : "--break-on-error";
  if (flags.remote !== undefined) {
    throw new AtomitonError(ErrorCode.USAGE, `${flag} does not work with --remote`, { retryable: false, hint: "run it locally, or drive the server's debugger over the protocol (debug.setBreakpoints)" });
  }
  if (!stdin.isTTY || !io.stderr.isTTY) {
    throw new AtomitonError(ErrorCode.USAGE, `${flag} needs a terminal to prompt on, and ${!stdin.isTTY ? "stdin" : "stderr"} is not one`, {
      retryable: false,
      hint: "run it in a terminal, or drive the run over the protocol: atomiton serve --stdio, then debug.setBreakpoints and run.start (docs/debugging.md)",
    });
  }
  const { TtyDebugger } = await import("../debug/tty-debugger.js");
  return new TtyDebugger({ stdin, stderr: io.stderr, style: stderrStyle(io, flags.color), breakpoints: flags.break ?? [], step: flags.step ?? false, breakOnError: flags.breakOnError ?? false });
}

/** `atomiton run`: load → validate → run with a reporter → save the record. Returns the exit code. */
export async function runCommand(targetArg: string | undefined, flags: RunFlags, io: CliIO, options: { signal?: AbortSignal; debug?: TtyDebugger } = {}): Promise<number> {
  const secrets = new KnownSecrets(io.env, flags.secret ?? []);
  // A --var/--set/--input value that is a secret's value is redacted from errors too.
  return withRedactedErrors(secrets, targetFile(targetArg, io), () => runKnowing(targetArg, flags, io, options, secrets));
}

/** The composite file a target names, if it is one (not a stored composite id). */
function targetFile(target: string | undefined, io: CliIO): string | undefined {
  if (target === undefined) return undefined;
  const file = path.resolve(io.cwd, target);
  return existsSync(file) ? file : undefined;
}

async function runKnowing(targetArg: string | undefined, flags: RunFlags, io: CliIO, options: { signal?: AbortSignal; debug?: TtyDebugger }, secrets: KnownSecrets): Promise<number> {
  const reporterName = parseReporterName(flags.reporter);
  const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) {
    throw new AtomitonError(ErrorCode.USAGE, `--concurrency must be a whole number ≥ 1, got ${flags.concurrency}`, { retryable: false });
  }
  if (flags.profile !== undefined && (flags.profile === "" || flags.profile === "-")) {
    throw new AtomitonError(ErrorCode.USAGE, "--profile needs a file name (the trace is not written to stdout)", { retryable: false, hint: "atomiton run flow.yaml --profile run.trace.json" });
  }
  if (flags.profile !== undefined && flags.dryRun) {
    throw new AtomitonError(ErrorCode.USAGE, "--profile records a run, and --dry-run runs nothing", { retryable: false, hint: "drop one of them" });
  }
  // Before anything is read or run (also the JUnit report of an invalid composite goes to --output).
  checkOutputTarget(flags.output, io.cwd, "--output", reporterName === "junit" ? "junit.xml" : "output.json");
  checkOutputTarget(flags.profile, io.cwd, "--profile", "run.trace.json");
  // --timeout 0: no timeout, and none from settings.timeout either (the conductor reads 0 as none).
  const timeout = durationFlag("--timeout", flags.timeout);
  const storage = openStorage(flags.storage, flags.dataDir, io, flags.redis, flags.queueName);
  const earlierRunId = flags.replayOf ?? flags.resume;
  const earlierFlag = flags.replayOf !== undefined ? "replay" : "--resume";
  const previous = earlierRunId === undefined ? undefined : await loadResumeRecord(storage, earlierRunId, earlierFlag);
  // The earlier run's --secret names are redacted again, given or not.
  const secretNames = [...new Set([...(flags.secret ?? []), ...earlierSecretNames(previous)])];
  secrets.add(secretNames.filter((name) => !flags.secret?.includes(name)));
  const recorded = flags.replayOf !== undefined ? (previous?.composite.file ?? previous?.composite.id) : previous?.composite.file;
  // A run whose composite was piped in (`run -`) is resumed or replayed from stdin again.
  const target = targetArg ?? (recorded !== undefined && path.basename(recorded) === STDIN_NAME ? STDIN_ARG : recorded);
  if (target === undefined) {
    throw new AtomitonError(ErrorCode.USAGE, "run needs a composite file or id", { retryable: false, hint: "atomiton run flow.yaml" });
  }
  // A resumed run keeps the earlier input and variables unless new ones are given.
  if (target === STDIN_ARG) checkStdinReadOnce([...(flags.input ?? []), ...(flags.pin ?? [])]);
  const vars = flags.var ? parseVars(flags.var) : (earlierValue(previous, "vars", earlierFlag) ?? {});
  const overrides = parseSets(flags.set ?? []);
  const spinner = startPhaseSpinner(io);
  const catalog = await spinner.during("loading custom nodes", () => loadCatalogForCli(flags.nodes ?? [], io));

  // Load: a file path, else a stored composite id.
  const loadOptions = { catalog, overrides, variables: Object.keys(vars), strict: flags.strict ?? false };
  const isFile = target === STDIN_ARG || existsSync(path.resolve(io.cwd, target)) || /[\\/]|\.ya?ml$/i.test(target);
  // A stored composite comes with the ref: files `composites add` stored beside it.
  const loaded = isFile ? await spinner.during(`loading and validating ${target === STDIN_ARG ? STDIN_NAME : target}`, () => loadCompositeArg(target, io.cwd, loadOptions)) : await loadStoredComposite(storage, target, loadOptions);
  spinner.stop();
  if (loaded === undefined) {
    // Loaded on this path only: the composites command brings the `yaml` package along.
    const stored = await (await import("./composites.js")).storedCompositeHint(storage, target);
    throw new AtomitonError(ErrorCode.NOT_FOUND, `"${target}" is neither a file nor a stored composite id`, {
      retryable: false,
      hint: stored ?? `check the path; stored composites live in ${renderStorageLocation(storage, "composites/", io.cwd)} (atomiton composites list)`,
    });
  }
  spinner.stop();
  secrets.addComposite(loaded.composite?.secrets ?? []);
  const style = stderrStyle(io, flags.color);
  const problems = secrets.problems(loaded.problems);
  if (problems.length > 0) io.stderr.write(renderProblems(problems, loaded.sources, style));
  if (!loaded.ok || !loaded.composite) {
    io.stderr.write(`${style.chalk.red(`${style.symbols.failed} not run:`)} ${summarizeProblems(problems)}; no node was started\n`);
    await reportInvalidForCi(reporterName, problems, io, target, flags.output);
    return ExitCode.invalid;
  }
  const composite = loaded.composite;
  // The record keeps a node whose id holds a secret's value under its redacted id: find it there.
  if (previous) {
    previous.nodes = nodesUnderTheirIds(previous.nodes, allNodeIds(composite), secrets.values());
    io.stderr.write(resumeNotes(previous, composite, { target: target!, resume: flags.resume !== undefined, replay: flags.replayOf !== undefined }, style));
  }
  if (flags.var) checkVarFlags(composite, vars);
  const input = flags.input ? await parseInput(flags.input, io.cwd) : earlierValue(previous, "input", earlierFlag);
  const pins = flags.pin ? await parsePins(flags.pin, io.cwd) : undefined;
  if (pins) checkNodeIds(composite, Object.keys(pins), "--pin");
  if (flags.break) checkNodeIds(composite, flags.break, "--break");
  const replayOf = flags.replayOf !== undefined && previous ? { runId: previous.runId, from: flags.from!, outputs: recordedUpstreamOutputs(composite, previous, flags.from!) } : undefined;
  const workdir = resolveWorkdir(composite, { workdir: flags.workdir, cwd: io.cwd });
  const found = statSync(workdir, { throwIfNoEntry: false });
  if (!found?.isDirectory()) {
    const from = flags.workdir !== undefined ? `--workdir ${flags.workdir}` : `${settingLocation(composite.file, loaded.sources, ["settings", "workdir"])}settings.workdir ${composite.settings.workdir ?? ""}`;
    throw new AtomitonError(ErrorCode.USAGE, `${from}: ${workdir} ${found === undefined ? "does not exist" : "is not a directory"}`, {
      retryable: false,
      hint: flags.workdir !== undefined ? "create it, or pass an existing directory (relative to the current one)" : "create it, or fix settings.workdir (relative to the composite file), or pass --workdir",
    });
  }
  if (flags.dryRun) {
    const planOptions = { ...(concurrency !== undefined ? { concurrency } : {}), ...(timeout !== undefined ? { timeout } : {}) };
    io.stdout.write(flags.reporter === "json" ? planJson(composite, planOptions) : renderPlan(composite, stdoutStyle(io, flags.color), planOptions));
    return ExitCode.ok;
  }
  // Before any node runs: a storage that cannot take the record (a read-only directory, a Redis
  // that is down or lacks the URL's database) is an error now, not after the run's side effects.
  if (flags.storage !== "memory") await storage.assertWritable();
  // Temp files of record saves that a killed run (SIGKILL mid-save) left behind.
  if (flags.storage === "filesystem") await storage.removeStaleTempFiles("runs/");
  const releaseResume = previous && flags.resume !== undefined ? await claimResume(storage, previous.runId) : undefined;

  // Secrets (composite and --secret) are redacted everywhere; in JSON only inside strings, so it stays JSON.
  const redact = secrets.text;
  const redactJson = secrets.json;

  const bus = createEventBus<RunEventMap>();
  // The composite's edges, built only if a summary asks for its critical path.
  let edges: Map<string, string[]> | undefined;
  const reporter = await createReporter(reporterName, { stdout: io.stdout, stderr: io.stderr, env: io.env, predecessors: (id) => (edges ??= predecessorsOf(composite)).get(id), ...(flags.color === false ? { color: false } : {}), ...(flags.output && flags.output !== "-" && reporterName === "junit" ? { output: path.resolve(io.cwd, flags.output) } : {}) });
  // A reporter without hooks (`silent`) is not subscribed: with no listener at all, the conductor
  // builds no events (its fast path): see docs/performance.md, "A silent reporter is no listener".
  if (reporterListens(reporter)) {
    bus.onAny((type, payload) => {
      const event = { type, ...payload } as RunEvent;
      report(reporter, redactJson ? (JSON.parse(redactJson(stringifyJsonSafe(event))) as RunEvent) : event);
    });
  }

  // --profile: the run's own events (logs and progress are not drawn), so it works with --storage memory too.
  const profileEvents: RunEvent[] | undefined = flags.profile === undefined ? undefined : [];
  if (profileEvents) {
    bus.onAny((type, payload) => {
      if (type !== "node:log" && type !== "node:progress") profileEvents.push({ type, ...payload } as RunEvent);
    });
  }

  const conductor = createConductor({ storage, events: bus, nodes: catalog, workdir: io.cwd, env: io.env });
  const controller = new AbortController();
  // A caller's signal (watch mode) also cancels the run; that caller then handles Ctrl-C itself.
  const stopSignals = options.signal ? () => undefined : trapSignals(controller, io);
  const stopGuards = guardRun(controller, redact);
  options.debug?.attach(reporter, (how) => controller.abort(new CancelledError(`cancelled at the debugger prompt (${how})`)), allNodeIds(composite), redact);
  let result;
  let profileWritten: { file: string } | { error: unknown } | undefined;
  try {
    result = await conductor.execute({
      composite,
      input,
      vars,
      signal: options.signal ? AbortSignal.any([controller.signal, options.signal]) : controller.signal,
      // --storage memory keeps nothing (a store of this command's own, gone at exit): no record or
      // event log is built that nobody could read. Over a 10k-node run that was a fifth of the CPU.
      record: storage.type !== "memory",
      secretValues: secrets.values(),
      secretNames,
      workdir,
      ...(previous && flags.resume !== undefined ? { resume: { runId: previous.runId, nodes: previous.nodes } } : {}),
      ...(pins ? { pins } : {}),
      ...(replayOf ? { replayOf } : {}),
      ...(options.debug ? { debug: options.debug.session } : {}),
      ...(flags.profile !== undefined ? { profile: true } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(timeout !== undefined ? { timeout } : {}),
    });
  } finally {
    await releaseResume?.();
    options.debug?.detach();
    stopSignals();
    stopGuards();
    await reporter.close?.();
    // Also when the run failed, was cancelled or threw.
    if (profileEvents) profileWritten = await writeProfile(profileEvents, composite, flags.profile!, io.cwd, redactJson).then((file) => ({ file }), (error: unknown) => ({ error }));
  }

  const printsEvents = reporterName === "json" || (reporterName === "junit" && (!flags.output || flags.output === "-"));
  const outputFile = flags.output && reporterName !== "junit" ? flags.output : undefined;
  if (result.output !== undefined) {
    await writeOutput(result.output, { file: outputFile, stdout: printsEvents ? undefined : io.stdout, cwd: io.cwd, redact, redactBytes: secrets.bytes });
  } else if (await removeStaleOutput(outputFile, io.cwd)) {
    io.stderr.write(`${style.chalk.dim(`no output: removed ${outputFile}, an earlier run's`)}\n`);
  }
  if (result.recordError) {
    // The run ran; its record did not make it to storage: say so, exit by the storage's error code.
    const e = result.recordError;
    const saved = e.details?.recordSaved === true;
    throw new AtomitonError(e.code, `run ${result.runId} ${result.status}, but ${saved ? "" : "its record was not saved: "}${e.message}`, { retryable: false, hint: saved ? e.hint : `check that ${storage.location} is writable` });
  }
  // `--reporter silent` prints nothing of its own: the output, errors and the exit code tell the rest.
  if (storage.type !== "memory" && !printsEvents && reporterName !== "silent") {
    io.stderr.write(style.chalk.dim(`run ${result.runId} saved to ${renderStorageLocation(storage, `runs/${result.runId}.json`, io.cwd)}\n`));
  }
  if (profileWritten && "error" in profileWritten) throw profileWritten.error;
  if (profileWritten && !printsEvents && reporterName !== "silent") {
    io.stderr.write(style.chalk.dim(`profile written to ${path.relative(io.cwd, profileWritten.file) || profileWritten.file} (open it in ui.perfetto.dev)\n`));
  }
  return result.status === "succeeded" ? ExitCode.ok : result.status === "cancelled" ? ExitCode.interrupted : ExitCode.runFailed;
}

/** The Chrome trace of the run, from its events and the composite's edges, written atomically. */
async function writeProfile(events: readonly RunEvent[], composite: Composite, file: string, cwd: string, redact: ((t: string) => string) | undefined): Promise<string> {
  const text = renderTrace(buildRunProfile(events, { predecessors: predecessorsOf(composite) }));
  return writeTextFile(file, redact ? redact(text) : text, cwd, "profile");
}

async function loadResumeRecord(storage: Storage, runId: string, flag: string): Promise<RunRecord> {
  const key = runRecordKey(runId);
  const record = (await storage.load(key).catch(() => undefined)) as RunRecord | undefined;
  if (!record || typeof record !== "object" || typeof record.nodes !== "object" || record.nodes === null) {
    // There but unreadable (truncated, not JSON, not a record): say so, not "no such run".
    if (await storage.exists(key).catch(() => false)) {
      throw new AtomitonError(ErrorCode.STORAGE, `${flag} ${runId}: the record of run "${runId}" cannot be read`, { retryable: false, hint: `check ${renderStorageLocation(storage, key)}` });
    }
    const ids = (await storage.list("runs/").catch(() => [] as string[])).filter((k) => k.endsWith(".json")).map((k) => k.slice(5, -5));
    // A unique prefix of the id is enough, as for `runs show` and `replay`.
    const prefixed = ids.filter((id) => runId !== "" && id.startsWith(runId));
    if (prefixed.length === 1 && prefixed[0] !== runId) return loadResumeRecord(storage, prefixed[0]!, flag);
    if (prefixed.length > 1) throw new AtomitonError(ErrorCode.USAGE, `${flag} ${runId}: the run id is ambiguous: ${prefixed.slice(0, 5).join(", ")}${prefixed.length > 5 ? ", …" : ""}`, { retryable: false, hint: "give more characters of the id" });
    const hint = didYouMean(runId, ids) || "list runs with `atomiton runs`";
    throw new AtomitonError(ErrorCode.NOT_FOUND, `${flag} ${runId}: no such run in ${storage.location}`, { retryable: false, hint });
  }
  // Resuming a run still going (on another host: its heartbeat is recent) would run its nodes twice, side by side.
  if (flag === "--resume" && record.status === "running" && record.pid !== process.pid && (await runLiveness(storage, record)) === "alive") {
    throw new AtomitonError(ErrorCode.USAGE, `--resume ${runId}: run ${runId} is still running (pid ${record.pid}${record.host === hostname() ? "" : ` on ${record.host}`})`, { retryable: false, hint: "wait for it to end, or stop it (Ctrl-C in its terminal, or kill it); then resume what it left" });
  }
  return record;
}
