import { AtomitonError, CancelledError, ErrorCode } from "../errors.js";
import { ExitCode } from "./exit-codes.js";
import { onInterruptTwice, showCursor } from "./interrupt-signals.js";
import type { CliIO } from "./io.js";

/**
 * While a run is in flight, node code's own mistakes fail the run, with its record saved, instead of
 * ending the process behind its back:
 * - an exception thrown, or a promise rejected with no handler, outside any node's `execute` (a
 *   custom node's timer callback): Node would print a stack trace and exit 1, the record left
 *   `running`;
 * - a node whose promise can no longer settle (nothing is left pending in the process): Node would
 *   exit 13 without a word.
 * Rejections of the sandbox's own promises (another realm's) stay ignored, as src/js/realm.ts does.
 * Returns the function that removes the guards.
 */
export function guardRun(controller: AbortController): () => void {
  const fail = (message: string, hint: string): void => {
    if (!controller.signal.aborted) controller.abort(new AtomitonError(ErrorCode.NODE, message, { retryable: false, hint }));
  };
  const onIdle = (): void =>
    fail("the run cannot finish: a node is waiting for a promise that nothing can settle any more", "a node returned a promise that never resolves or rejects; fix its code, or give the node a timeout");
  const onUncaught = (error: unknown): void =>
    fail(`node code threw outside a node's execute: ${messageOf(error)}`, "a callback a node left behind (a timer, an event handler) threw; catch errors inside it, or await it in execute");
  const onRejection = (reason: unknown, promise: unknown): void => {
    if (!(promise instanceof Promise)) return;
    fail(`a promise of node code rejected with no handler: ${messageOf(reason)}`, "await the promise in execute, or give it a .catch()");
  };
  process.on("beforeExit", onIdle);
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onRejection);
  return () => {
    process.off("beforeExit", onIdle);
    process.off("uncaughtException", onUncaught);
    process.off("unhandledRejection", onRejection);
  };
}

function messageOf(value: unknown): string {
  try {
    return value instanceof Error ? `${value.name}: ${value.message}` : String(value);
  } catch {
    return "(a value that cannot be printed)";
  }
}

/** First SIGINT/SIGTERM/SIGHUP cancels the run (nodes abort, children are killed, the record is saved); a second exits at once. */
export function trapSignals(controller: AbortController, io: CliIO): () => void {
  let cancelling = false;
  const off = onInterruptTwice(
    (signal) => {
      cancelling = true;
      io.stderr.write(`\n${signal} received: cancelling the run (press Ctrl-C again to exit at once)\n`);
      controller.abort(new CancelledError(`interrupted by ${signal}`));
    },
    () => {
      showCursor(io.stderr);
      void import("../nodes/builtin/process-registry.js")
        .then((m) => m.killAllChildren?.("SIGKILL"))
        .finally(() => process.exit(ExitCode.interrupted));
    },
  );
  return () => {
    // Once cancelling, stay armed: the run settles at once but its children may still be dying, and a
    // second Ctrl-C without this handler would kill the CLI by signal and skip the exit hook (orphans).
    if (cancelling) return;
    off();
  };
}
