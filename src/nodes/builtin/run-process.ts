import { StringDecoder } from "node:string_decoder";
import type { Readable } from "node:stream";
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

/**
 * The most of each of stdout and stderr a node keeps (execa's default `maxBuffer`); past it the
 * process tree is killed and the node fails saying so.
 */
export const MAX_OUTPUT_BYTES = 100_000_000;

/** One output stream of the process: every byte kept (up to MAX_OUTPUT_BYTES) and lines handed to `onLine` as they come. */
interface OutputSink {
  write(chunk: Buffer): void;
  /** Hand on the last line when it has no newline (the stream ended or was closed early). */
  flush(): void;
  /** The output as text, without its final newline (as execa gives it). */
  text(): string;
  readonly overflowed: boolean;
}

/**
 * Collects a process's output here rather than in execa: execa's error message for a failed
 * command holds the whole output with every control character escaped, which for megabytes of
 * binary output (NUL bytes) took seconds and crashed V8 ("invalid size error"). Lines go to
 * `onLine` chunk by chunk; each chunk is scanned once (a long line is not searched again with every
 * chunk), and a line is logged up to MAX_LOG_LINE characters, the rest counted.
 */
function outputSink(onLine: ((line: string) => void) | undefined, encoding: RunProcessOptions["encoding"], onOverflow: () => void): OutputSink {
  const chunks: Buffer[] = [];
  let size = 0;
  let overflowed = false;
  const decoder = new StringDecoder(encoding);
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
    onLine?.(cut > 0 ? `${line} … (${cut} more characters)` : line.replace(/\r$/, ""));
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
  return {
    write(chunk) {
      if (overflowed) return;
      if (size + chunk.length > MAX_OUTPUT_BYTES) {
        overflowed = true;
        onOverflow();
        return;
      }
      size += chunk.length;
      chunks.push(chunk);
      if (onLine) take(decoder.write(chunk));
    },
    flush() {
      if (!onLine) return;
      take(decoder.end());
      if (kept > 0 || cut > 0) emit();
    },
    text() {
      const text = Buffer.concat(chunks, size).toString(encoding);
      return text.endsWith("\r\n") ? text.slice(0, -2) : text.endsWith("\n") ? text.slice(0, -1) : text;
    },
    get overflowed() {
      return overflowed;
    },
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
  // Output past the limit: stop the process tree (as execa's maxBuffer did); the node fails saying so.
  const overflow = (): void => {
    if (killTimer === undefined) killTree();
  };
  const stdoutSink = outputSink(options.onStdoutLine, options.encoding, overflow);
  const stderrSink = outputSink(options.onStderrLine, options.encoding, overflow);
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
    stdout: "pipe",
    stderr: "pipe",
    // The output is read and kept by the sinks: execa keeps none, so its result (and its error
    // message) never copies it.
    buffer: false,
  });
  follow(subprocess.stdout, stdoutSink, options.logDrained);
  follow(subprocess.stderr, stderrSink, options.logDrained);
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
    stdoutSink.flush();
    stderrSink.flush();
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
      stdout: stdoutSink.text(),
      stderr: stderrSink.text(),
      timedOut,
      durationMs: Math.round(performance.now() - started),
      maxBuffer: stdoutSink.overflowed || stderrSink.overflowed,
    };
    if (exitCode === null && signal === null && typeof cause?.code === "string") outcome.spawnError = cause.code;
    return outcome;
  } finally {
    timeoutTimer?.clear();
    options.signal.removeEventListener("abort", forward);
  }
}

/**
 * Feeds a process's output stream to its sink. While the run's event log is behind (`logDrained`
 * gives a promise), reading pauses: the pipe fills and the process waits for its lines to be recorded.
 */
function follow(stream: Readable, sink: OutputSink, drained: RunProcessOptions["logDrained"]): void {
  stream.on("data", (chunk: Buffer) => {
    sink.write(chunk);
    const wait = drained?.();
    if (wait === undefined) return;
    stream.pause();
    void wait.then(() => stream.resume());
  });
}
