import { AtomitonError, ErrorCode } from "../errors.js";

/**
 * Node code's own mistakes outside any node's `execute` in a process (or thread) that hosts runs:
 * an exception thrown from a timer or handler a node left behind, a promise of node code rejected
 * with no handler. Node would end the process (or thread) with a stack trace, every run in it left
 * `running`. `onStray` gets each one as an `E_NODE` error and decides (fail the one run in flight,
 * or warn); the process goes on. Rejections of the sandbox's own promises (another realm's) stay
 * ignored, as src/js/realm.ts does. Returns the function that stops listening.
 */
export function onStrayNodeErrors(onStray: (error: AtomitonError) => void): () => void {
  const report = (what: string, cause: unknown, hint: string): void => onStray(new AtomitonError(ErrorCode.NODE, `${what}: ${messageOf(cause)}`, { retryable: false, hint }));
  const onUncaught = (error: unknown): void =>
    report("node code threw outside a node's execute", error, "a callback a node left behind (a timer, an event handler) threw; catch errors inside it, or await it in execute");
  const onRejection = (reason: unknown, promise: unknown): void => {
    if (promise instanceof Promise) report("a promise of node code rejected with no handler", reason, "await the promise in execute, or give it a .catch()");
  };
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onRejection);
  return () => {
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
