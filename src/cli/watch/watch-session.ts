import path from "node:path";
import { ExitCode } from "../exit-codes.js";
import { CancelledError } from "../../errors.js";

/** Why a run starts: the first run, changed files, or the `r` key. */
export type RunTrigger = { kind: "initial" } | { kind: "change"; files: string[] } | { kind: "key" };

export interface WatchSessionOptions {
  /** Quiet time after the last change before re-running (trailing debounce). */
  debounceMs: number;
  /** One run. Must settle soon after `signal` aborts; resolves with the run's exit code. */
  run(signal: AbortSignal, trigger: RunTrigger, index: number): Promise<number>;
  /** A change or key arrived while a run is in flight: it is being cancelled. */
  onCancel?(trigger: RunTrigger, index: number): void;
  /** After a run settles and before the next one may start (reap children, refresh the watched files). `stopping` when no run follows. */
  afterRun?(code: number, index: number, stopping: boolean): Promise<void> | void;
}

export interface WatchSession {
  /** Start the first run. */
  start(): void;
  /** A watched file changed: re-run after the debounce, cancelling the run in flight. */
  change(file: string): void;
  /** Re-run now (the `r` key), cancelling the run in flight. */
  rerun(): void;
  /**
   * Stop: cancel the run in flight and start no other. `closed` then resolves with `code`, or
   * 130 when a run was interrupted, else 0.
   */
  stop(code?: number): void;
  /** Resolves with the exit code once stopped and the last run has settled. */
  readonly closed: Promise<number>;
  /** True while a run is in flight. */
  readonly running: boolean;
}

/**
 * The run scheduler of watch mode: runs never overlap (a cancelled run settles, record saved,
 * before the next starts), bursts of changes coalesce into one run, and stopping waits for the
 * run in flight to wind down.
 */
export function createWatchSession(options: WatchSessionOptions): WatchSession {
  let pending: RunTrigger | undefined;
  let controller: AbortController | undefined;
  let inFlight = false;
  let looping = false;
  let stopped = false;
  let exitCode: number | undefined;
  let index = 0;
  let timer: NodeJS.Timeout | undefined;
  let changed: string[] = [];
  let resolveClosed: (code: number) => void = () => undefined;
  const closed = new Promise<number>((resolve) => {
    resolveClosed = resolve;
  });

  const finish = (): void => {
    if (stopped && !looping) resolveClosed(exitCode ?? 0);
  };

  const request = (trigger: RunTrigger): void => {
    if (stopped) return;
    pending = merge(pending, trigger);
    if (controller && !controller.signal.aborted) {
      if (inFlight) options.onCancel?.(trigger, index);
      controller.abort(new CancelledError(trigger.kind === "change" ? `${trigger.files.map((f) => path.basename(f)).join(", ")} changed, re-running` : "re-run requested"));
    }
    void loop();
  };

  async function loop(): Promise<void> {
    if (looping) return;
    looping = true;
    try {
      while (pending !== undefined && !stopped) {
        const trigger = pending;
        pending = undefined;
        controller = new AbortController();
        index += 1;
        inFlight = true;
        let code: number;
        try {
          code = await options.run(controller.signal, trigger, index);
        } catch {
          code = 1;
        }
        inFlight = false;
        controller = undefined;
        try {
          await options.afterRun?.(code, index, stopped);
        } catch {
          // Housekeeping failures must not stop watching.
        }
      }
    } finally {
      looping = false;
      finish();
    }
  }

  return {
    start: () => request({ kind: "initial" }),
    change(file) {
      if (stopped) return;
      if (!changed.includes(file)) changed.push(file);
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        const files = changed;
        changed = [];
        request({ kind: "change", files });
      }, options.debounceMs);
    },
    rerun: () => request({ kind: "key" }),
    stop(code) {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      exitCode = code ?? (inFlight ? ExitCode.interrupted : ExitCode.ok);
      controller?.abort(new CancelledError("watch mode stopped"));
      finish();
    },
    closed,
    get running() {
      return inFlight;
    },
  };
}

function merge(a: RunTrigger | undefined, b: RunTrigger): RunTrigger {
  if (a?.kind === "change" && b.kind === "change") return { kind: "change", files: [...new Set([...a.files, ...b.files])] };
  if (a?.kind === "change" && b.kind === "key") return a;
  return b;
}
