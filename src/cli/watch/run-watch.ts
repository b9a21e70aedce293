import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { handleError } from "../handle-error.js";
import { ExitCode } from "../exit-codes.js";
import { onInterruptTwice, showCursor, type SignalSource } from "../interrupt-signals.js";
import { stderrStyle, type CliIO } from "../io.js";
import { AtomitonError, ErrorCode } from "../../errors.js";
import { killAllChildren } from "../../nodes/builtin/process-registry.js";
import { detectTerminal } from "../../reporters/detect-terminal.js";
import { collectWatchPaths } from "./collect-watch-paths.js";
import { createFileWatcher } from "./create-file-watcher.js";
import { listenForKeys, WatchKey, type KeyInput } from "./listen-keys.js";
import { reapChildren } from "./reap-children.js";
import { createWatchSession, type RunTrigger } from "./watch-session.js";
import { createWatchText } from "./watch-text.js";

export type { SignalSource };
export { isForegroundJob } from "./listen-keys.js";

/** Default quiet time after the last change before re-running. */
export const DEFAULT_DEBOUNCE_MS = 150;

/** What watch mode needs from the outside world; the CLI passes the process's. */
export interface WatchHost {
  /** One run of the normal pipeline (load config and nodes fresh, validate, run, report, save). */
  runOnce(signal: AbortSignal): Promise<number>;
  /** Keypresses (q, r, Ctrl-C) are read from here when it is a TTY. */
  stdin?: KeyInput;
  /** Where SIGINT/SIGTERM/SIGHUP are heard (the process, passed in by the CLI). */
  signals?: SignalSource;
  /** A second Ctrl-C while stopping: exit now (children are SIGKILLed first). */
  forceExit?(code: number): void;
}

export interface WatchFlags {
  nodes?: string[];
  debounce?: string;
  resume?: string;
  color?: boolean;
}

/**
 * `atomiton run <file> --watch`: run, then re-run whenever the composite, a `ref:` file, the
 * config file, a custom node file or one of its local imports changes. A change cancels the run
 * in flight (its children are killed and its record saved as cancelled) before the next starts.
 * Broken files print their located error and watching goes on. Resolves with the exit code:
 * 0 when stopped while idle, 130 when stopping interrupted a run, 2 for a bad command line.
 */
export async function runWatch(target: string | undefined, flags: WatchFlags, io: CliIO, host: WatchHost): Promise<number> {
  const file = watchTarget(target, flags, io);
  const debounceMs = parseDebounce(flags.debounce);
  const style = stderrStyle(io, flags.color);
  const write = (text: string): void => {
    if (text !== "") io.stderr.write(text);
  };

  const paths = await collectWatchPaths({ composite: file, nodes: flags.nodes ?? [], cwd: io.cwd });
  const interactive = detectTerminal({ stream: io.stderr, env: io.env }).interactive;
  let restoreKeys: (() => void) | undefined;
  const text = () => createWatchText({ interactive, keys: restoreKeys !== undefined, style, cwd: io.cwd });

  const session = createWatchSession({
    debounceMs,
    async run(signal, trigger, index) {
      write(text().renderRunStart(trigger));
      try {
        return await host.runOnce(signal);
      } catch (error) {
        const code = handleError(error, io, flags.color);
        // A bad command line cannot be fixed by editing a file: stop. Anything tied to a file waits for a fix.
        if (index === 1 && isCommandLineError(error)) session.stop(code);
        return code;
      }
    },
    onCancel(trigger: RunTrigger) {
      write(text().renderCancel(trigger));
    },
    async afterRun(code, _index, stopping) {
      await reapChildren();
      if (stopping) return;
      const next = await collectWatchPaths({ composite: file, nodes: flags.nodes ?? [], cwd: io.cwd });
      const { added, removed } = watcher.sync(next);
      write(text().renderWatchChange(added, removed));
      write(text().renderRunEnd(code, watcher.count));
    },
  });

  const watcher = await createFileWatcher(paths, (changed) => session.change(changed));
  restoreKeys = listenForKeys(host.stdin, (key) => {
    if (key === WatchKey.quit) session.stop();
    else session.rerun();
  });
  const stopSignals = host.signals
    ? onInterruptTwice(
        () => session.stop(),
        () => {
          killAllChildren("SIGKILL");
          showCursor(io.stderr);
          host.forceExit?.(ExitCode.interrupted);
        },
        host.signals,
      )
    : () => undefined;

  write(text().renderStart(paths.files));
  session.start();
  const code = await session.closed;

  stopSignals();
  restoreKeys?.();
  await watcher.close();
  await reapChildren();
  write(text().renderStop(code));
  return code;
}

function watchTarget(target: string | undefined, flags: WatchFlags, io: CliIO): string {
  if (flags.resume !== undefined) {
    throw new AtomitonError(ErrorCode.USAGE, "--watch and --resume do not go together", { retryable: false, hint: "drop --resume: watch mode re-runs the file on every change" });
  }
  if (target === undefined) {
    throw new AtomitonError(ErrorCode.USAGE, "--watch needs a composite file", { retryable: false, hint: "atomiton run flow.yaml --watch" });
  }
  if (target === "-") {
    throw new AtomitonError(ErrorCode.USAGE, "--watch cannot watch stdin (-)", { retryable: false, hint: "give the composite's file: atomiton run flow.yaml --watch" });
  }
  const file = path.resolve(io.cwd, target);
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new AtomitonError(ErrorCode.USAGE, `--watch: ${target} is not a file`, {
      retryable: false,
      hint: !existsSync(file) ? "watch mode watches a composite file; a stored composite id cannot be watched" : statSync(file).isDirectory() ? "give the composite file, not a directory" : "watch mode watches a regular file, not a pipe or a device",
    });
  }
  return file;
}

function parseDebounce(value: string | undefined): number {
  if (value === undefined) return DEFAULT_DEBOUNCE_MS;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 0) {
    throw new AtomitonError(ErrorCode.USAGE, `--debounce must be a whole number of milliseconds ≥ 0, got ${value}`, { retryable: false, hint: `default ${DEFAULT_DEBOUNCE_MS}` });
  }
  return ms;
}

/** An error from the command line itself (bad flag, unknown reporter), not from any watched file. */
function isCommandLineError(error: unknown): boolean {
  if (!(error instanceof AtomitonError)) return false;
  return typeof error.details?.file !== "string" && (error.code === ErrorCode.USAGE || error.code === ErrorCode.NOT_FOUND || error.code === ErrorCode.STORAGE);
}
