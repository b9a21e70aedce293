import { AtomitonError, CancelledError, ErrorCode } from "../errors.js";
import { onStrayNodeErrors } from "../conductor/stray-errors.js";
import { ExitCode } from "./exit-codes.js";
import { onInterruptTwice, showCursor, stopAtOnceHint } from "./interrupt-signals.js";
import type { CliIO } from "./io.js";

/** The run in flight in this process (watch mode runs one at a time), and the last run's redaction. */
let current: AbortController | undefined;
let lastRedact: ((text: string) => string) | undefined;
let installed = false;

/**
 * While a run is in flight, node code's own mistakes fail the run, with its record saved, instead of
 * ending the process behind its back:
 * - an exception thrown, or a promise rejected with no handler, outside any node's `execute` (a
 *   custom node's timer callback): Node would print a stack trace and exit 1, the record left
 *   `running`;
 * - a node whose promise can no longer settle (nothing is left pending in the process): Node would
 *   exit 13 without a word.
 * After the run (a timer a node left that fires later, between watch-mode runs, while the CLI
 * writes its output) such a mistake is a warning on stderr and changes neither the run nor the
 * exit code. Rejections of the sandbox's own promises (another realm's) stay ignored, as
 * src/js/realm.ts does. Returns the function that ends the guard of this run.
 */
export function guardRun(controller: AbortController, redact?: (text: string) => string): () => void {
  installOnce();
  current = controller;
  lastRedact = redact;
  const onIdle = (): void => {
    if (controller.signal.aborted) return;
    const hint = "a node returned a promise that never resolves or rejects; fix its code, or give the node a timeout";
    controller.abort(new AtomitonError(ErrorCode.NODE, "the run cannot finish: a node is waiting for a promise that nothing can settle any more", { retryable: false, hint }));
  };
  process.on("beforeExit", onIdle);
  return () => {
    process.off("beforeExit", onIdle);
    if (current === controller) current = undefined;
  };
}

function installOnce(): void {
  if (installed) return;
  installed = true;
  onStrayNodeErrors((error) => {
    if (current) {
      if (!current.signal.aborted) current.abort(error);
      return;
    }
    const text = `⚠ ${error.message.replace(/: /, " after its run ended (ignored): ")}\n`;
    process.stderr.write(lastRedact ? lastRedact(text) : text);
  });
}

/** First SIGINT/SIGTERM/SIGHUP cancels the run (nodes abort, children are killed, the record is saved); a second exits at once. */
export function trapSignals(controller: AbortController, io: CliIO): () => void {
  let cancelling = false;
  const off = onInterruptTwice(
    (signal) => {
      cancelling = true;
      io.stderr.write(`\n${signal} received: cancelling the run (${stopAtOnceHint(signal)})\n`);
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
