import path from "node:path";
import { sourceOf, type LoadOptions, type LoadResult } from "../../composite/load-composite.js";
import { compositePath, loadCompositeArg } from "../composite-arg.js";
import { bundleOf, type Bundle } from "../composite-bundle.js";
import type { Problem } from "../../composite/problem.js";
import { AtomitonError, ErrorCode } from "../../errors.js";
import type { RunEvent } from "../../events/event-map.js";
import { createReporter, parseReporterName } from "../../reporters/create-reporter.js";
import { report } from "../../reporters/types.js";
import { assertUsableToken } from "../../serve/auth.js";
import { connectRpc, RemoteError, type RpcClient } from "../../serve/client.js";
import { ExitCode } from "../exit-codes.js";
import { onInterruptTwice, showCursor, stopAtOnceHint } from "../interrupt-signals.js";
import { stderrStyle, type CliIO } from "../io.js";
import { loadCatalogForCli } from "../load-catalog.js";
import { parseInput, parseSets, parseVars, durationFlag } from "../parse-flags.js";
import { KnownSecrets, secretsOfFile } from "../known-secrets.js";
import { renderProblems, summarizeProblems } from "../print-problems.js";
import { writeOutput } from "../write-output.js";
import type { RunFlags } from "./run.js";
import { predecessorsOf } from "../timeline/dependencies.js";

export interface RemoteFlags extends RunFlags {
  remote: string;
  token?: string;
}

/** How long a dropped connection is retried before giving up. */
const RECONNECT_FOR_MS = 30_000;

/**
 * `atomiton run <file> --remote ws://host:port`: sends the composite and its `ref:` files to an
 * `atomiton serve`, renders the remote events with a local reporter, exits with the remote run's
 * code. Ctrl-C cancels the remote run (a second one exits at once). A dropped connection is
 * reconnected and the events resume from the last `seq`.
 */
export async function runRemote(target: string | undefined, flags: RemoteFlags, io: CliIO): Promise<number> {
  const reporterName = parseReporterName(flags.reporter);
  if (target === undefined) throw new AtomitonError(ErrorCode.USAGE, "run --remote needs a composite file", { retryable: false, hint: "atomiton run flow.yaml --remote ws://127.0.0.1:7437" });
  if (!/^wss?:\/\//.test(flags.remote)) throw new AtomitonError(ErrorCode.USAGE, `--remote: expected a ws:// or wss:// URL, got ${flags.remote}`, { retryable: false });
  const timeout = durationFlag("--timeout", flags.timeout);
  const token = flags.token ?? io.env.ATOMITON_TOKEN;
  if (token) assertUsableToken(token, flags.token !== undefined ? "--token" : "ATOMITON_TOKEN");
  const bundle = await bundleComposite(target, flags, io);
  const style = stderrStyle(io, flags.color);

  // The summary's critical path from the composite's edges, as for a local run (read here to send it).
  const composite = bundle.loaded.composite;
  const edges = composite === undefined ? undefined : predecessorsOf(composite);
  const reporter = await createReporter(reporterName, { stdout: io.stdout, stderr: io.stderr, env: io.env, ...(edges ? { predecessors: (id: string) => edges.get(id) } : {}), ...(flags.color === false ? { color: false } : {}) });
  let runId: string | undefined;
  let lastSeq = -1;
  let finish: Extract<RunEvent, { type: "run:finish" }> | undefined;
  let settle!: () => void;
  const finished = new Promise<void>((resolve) => (settle = resolve));
  // Events can arrive in the same read as run.start's answer, before `runId` is set: hold them.
  const early: unknown[] = [];
  // The server dropped events this client was too slow for (an `events:dropped` marker): they are
  // fetched again from the stored log on a fresh connection (events.subscribe fromSeq).
  let fellBehind!: (range: { fromSeq: number; toSeq: number }) => void;
  let behind = new Promise<{ fromSeq: number; toSeq: number }>((resolve) => (fellBehind = resolve));
  // The server could not replay what this client missed from its event log (`events.error`): no run:finish would come.
  let replayFailed!: (error: AtomitonError) => void;
  const failedReplay = new Promise<AtomitonError>((resolve) => (replayFailed = resolve));
  const onNotification = (method: string, params: unknown) => {
    if (method === "events.error") return void onReplayError(params);
    if (method !== "run.event") return;
    if (runId === undefined) {
      early.push(params);
      return;
    }
    const { runId: id, seq, event } = params as { runId: string; seq: number; event: RunEvent | { type: "events:dropped"; fromSeq: number; toSeq: number } };
    if (id !== runId) return;
    // A marker's seq is the last one it covers; one for events already seen is stale.
    if (event.type === "events:dropped") return void (event.fromSeq <= lastSeq + 1 && seq > lastSeq && fellBehind(event));
    // Only the next seq is taken: a replay after a reconnect may overlap, and after a drop marker
    // the live events that follow it wait for the dropped ones to be fetched again.
    if (seq !== lastSeq + 1) return;
    lastSeq = seq;
    report(reporter, event);
    if (event.type === "run:finish") {
      finish = event;
      settle();
    }
  };

  const onReplayError = (params: unknown) => {
    const { runId: id, seq, error } = params as { runId: string; seq: number; error: { message: string; data?: { code?: string } } };
    if (runId === undefined || id !== runId) return;
    replayFailed(
      new AtomitonError(error.data?.code ?? ErrorCode.STORAGE, `cannot follow the remote run ${runId} from seq ${seq}: ${error.message}`, {
        retryable: false,
        hint: "the run goes on on the server; follow its end with `atomiton runs show` there, or run.wait",
      }),
    );
  };

  let client: RpcClient = await connectRpc(flags.remote, { token, onNotification });
  let cancelRequested = false;
  const cancel = () => {
    cancelRequested = true;
    if (runId !== undefined) void client.request("run.cancel", { runId }).catch(() => undefined);
  };
  const stopSignals = trapSignals(io, cancel);
  try {
    try {
      const started = await client.request<{ runId: string }>("run.start", {
        text: bundle.text,
        file: bundle.file,
        files: bundle.files,
        subscribe: true,
        ...(flags.input ? { input: await parseInput(flags.input, io.cwd) } : {}),
        ...(flags.var ? { vars: parseVars(flags.var) } : {}),
        ...(flags.set ? { set: Object.fromEntries(parseSets(flags.set).map((o) => [`${o.nodeId}.${o.param}`, o.value])) } : {}),
        ...(flags.concurrency !== undefined ? { concurrency: Number(flags.concurrency) } : {}),
        ...(timeout !== undefined ? { timeout } : {}),
      });
      runId = started.runId;
      for (const params of early.splice(0)) onNotification("run.event", params);
      if (cancelRequested) cancel();
    } catch (error) {
      const found = error instanceof RemoteError ? (error.data?.problems as Problem[] | undefined) : undefined;
      if (!found) throw error;
      // A --set/--var value that is a secret's value (this side's --secret and the file's secrets:) is redacted.
      const secrets = new KnownSecrets(io.env, flags.secret ?? []);
      secrets.addComposite(await secretsOfFile(path.resolve(io.cwd, target)));
      const problems = secrets.problems(found);
      io.stderr.write(renderProblems(problems, bundle.sources, style));
      io.stderr.write(`${style.chalk.red(`${style.symbols.failed} not run:`)} ${summarizeProblems(problems)}; no node was started\n`);
      return ExitCode.invalid;
    }
    // Follow the run; reconnect and resume from the last seq when the socket drops.
    let lost: Promise<RemoteError> = new Promise(() => undefined);
    for (;;) {
      const outcome = await Promise.race([finished.then(() => "finished" as const), client.closed, lost, behind, failedReplay]);
      if (outcome === "finished") break;
      if (outcome instanceof AtomitonError && !(outcome instanceof RemoteError)) throw outcome;
      if ("fromSeq" in outcome) {
        io.stderr.write(style.chalk.dim(`fell behind: the server dropped events ${outcome.fromSeq}–${outcome.toSeq}; reconnecting to fetch run ${runId} from seq ${lastSeq + 1}\n`));
        const old = client;
        old.close();
        await old.closed;
        // Markers still in the old socket's buffer are stale: a fresh promise only after it closed.
        behind = new Promise((resolve) => (fellBehind = resolve));
      } else if (outcome instanceof RemoteError) throw new AtomitonError("E_CONNECTION", `lost the remote run ${runId}: ${outcome.message}`, { retryable: false, hint: "the server was restarted while the run was in flight; its record stays as it was" });
      else if (outcome.code === 4401 || outcome.code === 4403) throw new AtomitonError("E_CONNECTION", `${flags.remote} closed the connection (${outcome.code} ${outcome.reason})`, { retryable: false });
      else io.stderr.write(style.chalk.dim(`connection lost (${outcome.code}); reconnecting to resume run ${runId} from seq ${lastSeq + 1}\n`));
      client = await reconnect(flags.remote, token, onNotification);
      await client.request("events.subscribe", { runId, fromSeq: lastSeq + 1 });
      // A Ctrl-C while the socket was down could not reach the server: send it now.
      if (cancelRequested) cancel();
      // A restarted server replays the stored events of a run it does not run: no run:finish would come.
      lost = client.request("run.wait", { runId }).then(
        () => new Promise<never>(() => undefined),
        (error: unknown) => (error instanceof RemoteError ? error : new Promise<never>(() => undefined)),
      );
    }
  } finally {
    stopSignals();
    await reporter.close?.();
    client.close();
  }
  const printsEvents = flags.reporter === "json" || flags.reporter === "junit";
  if (finish!.output !== undefined) await writeOutput(finish!.output, { file: flags.output, stdout: printsEvents ? undefined : io.stdout, cwd: io.cwd });
  if (!printsEvents) io.stderr.write(style.chalk.dim(`run ${runId} ran on ${flags.remote}\n`));
  return finish!.status === "succeeded" ? ExitCode.ok : finish!.status === "cancelled" ? ExitCode.interrupted : ExitCode.runFailed;
}

async function reconnect(url: string, token: string | undefined, onNotification: (m: string, p: unknown) => void): Promise<RpcClient> {
  const deadline = Date.now() + RECONNECT_FOR_MS;
  let delay = 200;
  for (;;) {
    try {
      return await connectRpc(url, { token, onNotification });
    } catch (error) {
      if (Date.now() + delay > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 2_000);
    }
  }
}

/** The composite and every `ref:` file it reads, named relative to their common directory. */
export async function bundleComposite(target: string, flags: RunFlags, io: CliIO, options: Omit<LoadOptions, "catalog" | "file"> = {}): Promise<Bundle & { loaded: LoadResult }> {
  // Loaded here to find the ref: files (the server validates against its own catalog) and read once:
  // a pipe or a terminal gives its text only once (`-`: stdin).
  const catalog = await loadCatalogForCli(flags.nodes ?? [], io);
  const main = compositePath(target, io.cwd);
  const local = await loadCompositeArg(target, io.cwd, { catalog, ...options });
  const text = sourceOf(local, main);
  if (text === undefined) {
    const why = local.problems[0];
    throw new AtomitonError(why?.code ?? ErrorCode.FILE, why?.message ?? `cannot read ${main}`, { retryable: false, hint: why?.hint ?? "give the path of a composite file" });
  }
  return { ...bundleOf(main, text, local), loaded: local };
}



function trapSignals(io: CliIO, cancel: () => void): () => void {
  return onInterruptTwice(
    (signal) => {
      io.stderr.write(`\n${signal} received: cancelling the remote run (${stopAtOnceHint(signal)})\n`);
      cancel();
    },
    () => {
      showCursor(io.stderr);
      process.exit(ExitCode.interrupted);
    },
  );
}
