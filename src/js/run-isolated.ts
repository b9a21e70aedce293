import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { AtomitonError, ErrorCode, fromNodeError, TimeoutError } from "../errors.js";
import type { HostMessage, HostRequest } from "./isolate-host.js";
import type { IsolatedResult, IsolatedTask } from "./isolate-worker.js";
import { DEFAULT_CODE_TIMEOUT_MS } from "./sandbox.js";

/** Heap limit of an isolated worker unless the node says otherwise. */
export const DEFAULT_WORKER_MEMORY_MB = 256;

/** dist/isolate-host.js next to the bundle; from the sources (tests) the built copy in dist/. */
function hostPath(): string {
  const here = import.meta.url;
  return fileURLToPath(/\.[cm]?ts$/.test(here) ? new URL("../../dist/isolate-host.js", here) : new URL("./isolate-host.js", here));
}

/** V8's last words when a heap limit was reached (the host's stderr). */
const OUT_OF_MEMORY = /heap limit|out of memory|allocation failed/i;

/**
 * Run user JavaScript in a worker thread with `resourceLimits`, inside a child process of its own
 * (isolate-host.ts): an infinite loop is ended at the time limit (E_TIMEOUT), a memory blow-up ends
 * only that process (E_CODE, "ran out of memory"), and the run goes on.
 */
export function runIsolated(task: IsolatedTask, options: { signal: AbortSignal; timeoutMs?: number; memoryMb?: number }): Promise<unknown> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CODE_TIMEOUT_MS;
  const memoryMb = options.memoryMb ?? DEFAULT_WORKER_MEMORY_MB;
  const outOfMemory = () => new AtomitonError(ErrorCode.CODE, `JavaScript ran out of memory (limit ${memoryMb} MB); its worker was ended`, { retryable: false });
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      // No execArgv: the parent's flags (a profiler, a loader) are not the host's.
      child = fork(hostPath(), [], { execArgv: [], serialization: "advanced", stdio: ["ignore", "ignore", "pipe", "ipc"] });
    } catch (error) {
      reject(new AtomitonError(ErrorCode.CODE, `cannot start an isolated worker: ${(error as Error).message}`, { retryable: false, cause: error }));
      return;
    }
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4096)));
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal.removeEventListener("abort", onAbort);
      child.kill("SIGKILL");
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(new TimeoutError(`JavaScript ran longer than ${timeoutMs}ms in its worker (infinite loop?); the worker was ended`, { retryable: false }))), timeoutMs);
    const onAbort = () => finish(() => reject(options.signal.reason));
    options.signal.addEventListener("abort", onAbort, { once: true });
    child.on("message", (message: HostMessage) => {
      if (message.type === "result") {
        const result = message.result as IsolatedResult;
        finish(() => (result.ok ? resolve(result.value) : reject(fromNodeError(result.error))));
      } else if (message.type === "error") {
        finish(() => reject(message.code === "ERR_WORKER_OUT_OF_MEMORY" ? outOfMemory() : new AtomitonError(ErrorCode.CODE, message.message, { retryable: false })));
      } else {
        finish(() => reject(new AtomitonError(ErrorCode.CODE, `isolated worker exited with code ${message.code}`, { retryable: false })));
      }
    });
    child.once("error", (error) => finish(() => reject(new AtomitonError(ErrorCode.CODE, `cannot start an isolated worker: ${error.message}`, { retryable: false, cause: error }))));
    // The host itself ended without a word: V8 aborted it at the heap limit, or it was killed.
    child.once("exit", (code, signal) =>
      finish(() =>
        reject(
          signal === "SIGABRT" || code === 134 || OUT_OF_MEMORY.test(stderr)
            ? outOfMemory()
            : new AtomitonError(ErrorCode.CODE, `isolated worker's process ended (${signal ?? `exit code ${code}`})`, { retryable: false }),
        ),
      ),
    );
    try {
      child.send({ task, memoryMb } satisfies HostRequest);
    } catch (error) {
      finish(() => reject(new AtomitonError(ErrorCode.CODE, `cannot start an isolated worker: ${(error as Error).message}`, { retryable: false, cause: error })));
    }
  });
}
