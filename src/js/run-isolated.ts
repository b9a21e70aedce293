import { Worker } from "node:worker_threads";
import { AtomitonError, ErrorCode, fromNodeError, TimeoutError } from "../errors.js";
import type { IsolatedResult, IsolatedTask } from "./isolate-worker.js";
import { DEFAULT_CODE_TIMEOUT_MS } from "./sandbox.js";

/** Heap limit of an isolated worker unless the node says otherwise. */
export const DEFAULT_WORKER_MEMORY_MB = 256;

/** dist/isolate-worker.js next to the bundle; from the sources (tests) the built copy in dist/. */
function workerUrl(): URL {
  const here = import.meta.url;
  return /\.[cm]?ts$/.test(here) ? new URL("../../dist/isolate-worker.js", here) : new URL("./isolate-worker.js", here);
}

/**
 * Run user JavaScript in a worker thread with `resourceLimits`: an infinite loop is terminated at
 * the time limit (E_TIMEOUT), a memory blow-up kills only the worker (E_CODE), the run goes on.
 */
export function runIsolated(task: IsolatedTask, options: { signal: AbortSignal; timeoutMs?: number; memoryMb?: number }): Promise<unknown> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CODE_TIMEOUT_MS;
  const memoryMb = options.memoryMb ?? DEFAULT_WORKER_MEMORY_MB;
  return new Promise((resolve, reject) => {
    let worker: Worker;
    try {
      worker = new Worker(workerUrl(), { workerData: task, resourceLimits: { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: Math.min(64, memoryMb) }, stdout: true, stderr: true });
    } catch (error) {
      reject(new AtomitonError(ErrorCode.CODE, `cannot start an isolated worker: ${(error as Error).message}`, { retryable: false, cause: error }));
      return;
    }
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal.removeEventListener("abort", onAbort);
      void worker.terminate();
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(new TimeoutError(`JavaScript ran longer than ${timeoutMs}ms in its worker (infinite loop?); the worker was terminated`, { retryable: false }))), timeoutMs);
    const onAbort = () => finish(() => reject(options.signal.reason));
    options.signal.addEventListener("abort", onAbort, { once: true });
    worker.once("message", (result: IsolatedResult) =>
      finish(() => (result.ok ? resolve(result.value) : reject(fromNodeError(result.error)))),
    );
    worker.once("error", (error: Error & { code?: string }) =>
      finish(() =>
        reject(
          error.code === "ERR_WORKER_OUT_OF_MEMORY"
            ? new AtomitonError(ErrorCode.CODE, `JavaScript ran out of memory (limit ${memoryMb} MB); the worker was terminated`, { retryable: false, cause: error })
            : new AtomitonError(ErrorCode.CODE, error.message, { retryable: false, cause: error }),
        ),
      ),
    );
    worker.once("exit", (code) => finish(() => reject(new AtomitonError(ErrorCode.CODE, `isolated worker exited with code ${code}`, { retryable: false }))));
  });
}
