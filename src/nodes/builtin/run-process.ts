import { StringDecoder } from "node:string_decoder";
import { raceAbort } from "./abort.js";
import { ensureReaper, isGroupAlive, killProcessTree, registerChild, unregisterChild } from "./process-registry.js";
import { setLongTimeout } from "../../js/duration.js";

/** How long a process tree gets to exit after SIGTERM before it is SIGKILLed. */
export const KILL_GRACE_MS = 2000;

/**
 * After the command exits, how long its output pipes may stay open before the node stops waiting
 * for them: `detach: true`, what it left in the background holds them (`server &`); otherwise a
 * process that left the group (`setsid`) and so outlived its kill.
 */
const DETACHED_PIPE_GRACE_MS = 200;
const ESCAPED_PIPE_GRACE_MS = KILL_GRACE_MS + 200;

export interface RunProcessOptions {
  file: string;
  args: string[];
  shell: boolean | string;
  cwd: string;
  /** The complete environment (no merging with process.env happens here). */
  env: Record<string, string>;
  /** Written to stdin; when undefined stdin is closed. */
  stdin?: string | Uint8Array | undefined;
  encoding: "utf8" | "utf16le" | "latin1" | "ascii";
  signal: AbortSignal;
  timeoutMs?: number | undefined;
  timeoutError: () => Error;
  /** On timeout, wait for the killed process and resolve with `timedOut: true` instead of rejecting. */
  waitOnTimeout: boolean;
  /** When the process exits, leave what it started in the background running (else its group is killed). */
  detach?: boolean;
  onStdoutLine?: (line: string) => void;
  onStderrLine?: (line: string) => void;
  /** After each chunk's lines: a promise to wait for before reading more (`ctx.logDrained`), so a process that prints faster than its lines are recorded waits for them. */
  logDrained?: () => Promise<void> | undefined;
}

export interface RunProcessOutcome {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
  /** errno (`ENOENT`, `EACCES`) when the process could not be started. */
  spawnError?: string;
  maxBuffer: boolean;
}

/** The longest output line handed to `onLine` (a log line); past it, the line's length is told instead. */
const MAX_LOG_LINE = 64 * 1024;

/** An execa transform over raw chunks (`binary: true`). */
interface ChunkTransform {
  transform(chunk: Uint8Array): AsyncGenerator<Uint8Array, void, unknown>;
  final(): Generator<Uint8Array, void, unknown>;
  binary: true;
}

/**
 * Streams a process's output to `onLine` a line at a time while execa keeps every byte. A binary
 * transform that passes each chunk on at once, not execa's line mode: that holds the last,
 * unterminated line until the stream ends, and a stream closed early (its pipes held by a detached
 * or escaped process, see `runProcess`) lost it, from the result too. `flush` hands on the rest.
 */
function lineSink(onLine: ((line: string) => void) | undefined, encoding: RunProcessOptions["encoding"], drained: RunProcessOptions["logDrained"]): { stdio: "pipe" | [ChunkTransform]; flush(): void } {
  if (!onLine) return { stdio: "pipe", flush: () => undefined };
  const decoder = new StringDecoder(encoding);
  // The line so far, in pieces: each chunk is scanned once, not the whole line again with every
  // chunk (quadratic in the length of a long line: 30 MB on one line took 8 s). A line is logged up
  // to MAX_LOG_LINE characters; the rest is counted (the node's output keeps every byte).
  let pieces: string[] = [];
  let kept = 0;
  let cut = 0;
  const add = (text: string): void => {
    const room = MAX_LOG_LINE - kept;
    const part = text.length <= room ? text : text.slice(0, room);
    if (part !== "") pieces.push(part);
    kept += part.length;
    cut += text.length - part.length;
  };
  const emit = (): void => {
    const line = pieces.join("");
    onLine(cut > 0 ? `${line} … (${cut} more characters)` : line.replace(/\r$/, ""));
    pieces = [];
    kept = 0;
    cut = 0;
  };
  const take = (text: string): void => {
    let from = 0;
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", from)) {
      add(text.slice(from, i));
      emit();
      from = i + 1;
    }
    add(text.slice(from));
  };
  const flush = (): void => {
    take(decoder.end());
    if (kept > 0 || cut > 0) emit();
  };
  return {
    stdio: [
      {
        async *transform(chunk: Uint8Array): AsyncGenerator<Uint8Array, void, unknown> {
          take(decoder.write(chunk));
          yield chunk;
          // The run's event log is behind: the next chunk waits, so the pipe fills and the process waits too.
          const wait = drained?.();
          if (wait !== undefined) await wait;
        },
        // eslint-disable-next-line require-yield -- it only hands the last line to onLine; execa has every byte already
        *final(): Generator<Uint8Array, void, unknown> {
          flush();
        },
        binary: true as const,
      },
    ],
    flush,
  };
}

/**
 * Run a process in its own process group (so abort reaches grandchildren too), streaming its
 * output lines. On abort or timeout the whole tree gets SIGTERM, then SIGKILL after
 * `KILL_GRACE_MS`; the returned promise rejects at once with the abort reason. When the process
 * exits by itself, what it left running in its group is killed the same way, unless `detach`.
 */
export async function runProcess(options: RunProcessOptions): Promise<RunProcessOutcome> {
  const { execa } = await import("execa");
  // Cancelled while execa loaded: spawn nothing (a listener added to an aborted signal never fires).
  options.signal.throwIfAborted();
  const started = performance.now();
  const local = new AbortController();
  let timedOut = false;
  const forward = (): void => local.abort(options.signal.reason);
  options.signal.addEventListener("abort", forward, { once: true });
  const timeoutTimer =
    options.timeoutMs === undefined
      ? undefined
      : setLongTimeout(() => {
          timedOut = true;
          local.abort(options.timeoutError());
        }, options.timeoutMs);

  ensureReaper();
  const stdoutSink = lineSink(options.onStdoutLine, options.encoding, options.logDrained);
  const stderrSink = lineSink(options.onStderrLine, options.encoding, options.logDrained);
  const subprocess = execa(options.file, options.args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    shell: options.shell,
    encoding: options.encoding,
    reject: false,
    detached: process.platform !== "win32",
    windowsHide: true,
    ...(options.stdin === undefined ? { stdin: "ignore" as const } : { input: options.stdin }),
    // Either "pipe" or a transform list; execa's option types take one or the other, not a union.
    stdout: stdoutSink.stdio as "pipe",
    stderr: stderrSink.stdio as "pipe",
  });
  const pid = subprocess.pid;
  if (pid !== undefined) registerChild(pid);

  let killTimer: NodeJS.Timeout | undefined;
  const killTree = (): void => {
    if (pid === undefined) return;
    killProcessTree(pid, "SIGTERM");
    killTimer = setTimeout(() => {
      if (isGroupAlive(pid)) killProcessTree(pid, "SIGKILL");
      unregisterChild(pid);
    }, KILL_GRACE_MS);
    // The registry's exit hook SIGKILLs what is left if the process exits before this fires.
    killTimer.unref();
  };
  if (local.signal.aborted) killTree();
  else local.signal.addEventListener("abort", killTree, { once: true });

  // The leader exited, but a background process that inherited its stdout/stderr (`sleep 300 & echo
  // done`) holds the pipes open, and execa resolves only when they close: end the group now.
  // Pipes still open after a grace: our ends close and the node ends with what the command wrote.
  // What holds them (a detached `server &`, a process that escaped the group) gets EPIPE or SIGPIPE
  // if it writes there later: redirect the output of what should outlive the node
  // (`server > server.log 2>&1 &`).
  let pipesClosed = false;
  const closeHeldPipes = (): void => {
    if (pipesClosed) return;
    stdoutSink.flush();
    stderrSink.flush();
    for (const stream of [subprocess.stdout, subprocess.stderr]) stream?.destroy();
  };
  subprocess.once("exit", () => {
    if (pid !== undefined && !options.detach && killTimer === undefined && isGroupAlive(pid)) killTree();
    setTimeout(closeHeldPipes, options.detach ? DETACHED_PIPE_GRACE_MS : ESCAPED_PIPE_GRACE_MS).unref();
  });
  const finished = subprocess.then((result) => {
    pipesClosed = true;
    if (pid === undefined) return result;
    if (!isGroupAlive(pid)) {
      if (killTimer) clearTimeout(killTimer);
      unregisterChild(pid);
    } else if (options.detach && !local.signal.aborted) {
      // Asked for: background processes outlive the node and the CLI (nobody kills them at exit).
      unregisterChild(pid);
    } else if (killTimer === undefined) {
      // The leader exited and left background processes in its group (`sleep 300 &`): they end with it.
      killTree();
    }
    return result;
  });
  finished.catch(() => undefined);

  try {
    const what = `command \`${options.file}\``;
    const result = options.waitOnTimeout ? await raceAbort(finished, options.signal, what) : await raceAbort(finished, local.signal, what);
    const cause = result.cause as { code?: unknown } | undefined;
    const exitCode = typeof result.exitCode === "number" ? result.exitCode : null;
    const signal = typeof result.signal === "string" ? result.signal : null;
    const outcome: RunProcessOutcome = {
      exitCode,
      signal,
      stdout: typeof result.stdout === "string" ? result.stdout : String(result.stdout ?? ""),
      stderr: typeof result.stderr === "string" ? result.stderr : String(result.stderr ?? ""),
      timedOut,
      durationMs: Math.round(performance.now() - started),
      maxBuffer: result.isMaxBuffer,
    };
    if (exitCode === null && signal === null && typeof cause?.code === "string") outcome.spawnError = cause.code;
    return outcome;
  } finally {
    timeoutTimer?.clear();
    options.signal.removeEventListener("abort", forward);
  }
}
