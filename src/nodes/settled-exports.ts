/**
 * A module whose default export (or `nodes`) is a promise: awaited here, so a rejection is this
 * module's load error rather than an unhandled rejection that ends the process with a stack trace.
 */
export async function settledExports(mod: unknown): Promise<unknown> {
  const m = mod as { default?: unknown; nodes?: unknown } | undefined;
  if (!isThenable(m?.default) && !isThenable(m?.nodes)) return mod;
  const settled: Record<string, unknown> = { ...m };
  if (isThenable(m?.default)) settled.default = await settledOrStuck(m.default, "its default export (a promise)");
  if (isThenable(m?.nodes)) settled.nodes = await settledOrStuck(m.nodes, "its `nodes` export (a promise)");
  return settled;
}

/** A promise, or anything with a `then` (a module's export, a config function's result). */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as PromiseLike<unknown> | null | undefined)?.then === "function";
}

/**
 * `value`, awaited; rejects when nothing is left in the process that could settle it (Node would
 * otherwise exit 13 without a word): a module's export that is a promise which never settles.
 */
export function settledOrStuck<T>(value: PromiseLike<T>, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stuck = (why: string): void => {
      done();
      const error = new Error(`${what} never settles${why}`);
      error.stack = error.message; // No frame of this file: the message is about the module.
      reject(error);
    };
    const idle = (): void => stuck("");
    // Where something keeps the process alive (watch mode's watcher), `beforeExit` never comes.
    const timer = setTimeout(() => stuck(` (waited ${EXPORT_WAIT_MS / 1000} s)`), EXPORT_WAIT_MS).unref();
    const done = (): void => {
      process.off("beforeExit", idle);
      clearTimeout(timer);
    };
    process.once("beforeExit", idle);
    Promise.resolve(value).then(
      (v) => (done(), resolve(v)),
      (e: unknown) => (done(), reject(e)),
    );
  });
}
const EXPORT_WAIT_MS = 30_000;
