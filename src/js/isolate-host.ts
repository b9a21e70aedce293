// Entry of the child process behind `isolation: worker` (built to dist/isolate-host.js). It hosts
// the worker thread that runs the user's JavaScript (isolate-worker.js) under its heap limit.
//
// A process of its own because a worker's heap limit does not always stop at the worker: Node
// lets a worker at its limit grow by 16 MB to end it cleanly, and a single allocation larger than
// that (`new Array(1e7)`) makes V8 abort the whole process. Here that process is this one, not
// the run. Its main thread stays idle while the worker runs, so it still sees its parent go away
// (the IPC channel closes) and exits even when the worker is stuck in a loop.
import { Worker } from "node:worker_threads";
import type { IsolatedTask } from "./isolate-worker.js";

/** What the host sends its parent: the worker's own message, or how the worker ended without one. */
export type HostMessage =
  | { type: "result"; result: unknown }
  | { type: "error"; code: string | undefined; message: string }
  | { type: "exit"; code: number };

export interface HostRequest {
  task: IsolatedTask;
  memoryMb: number;
}

process.on("disconnect", () => process.exit(0));
// Ctrl-C in a terminal, a hang-up or a group SIGTERM reach this process too: the parent decides
// (it cancels the node and kills this process), so the node ends as cancelled, not as a crash.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => undefined);
process.once("message", (request: HostRequest) => {
  const send = (message: HostMessage) => process.send?.(message);
  let worker: Worker;
  try {
    worker = new Worker(new URL("./isolate-worker.js", import.meta.url), {
      workerData: request.task,
      resourceLimits: { maxOldGenerationSizeMb: request.memoryMb, maxYoungGenerationSizeMb: Math.min(64, request.memoryMb) },
      stdout: true,
      stderr: true,
    });
  } catch (error) {
    send({ type: "error", code: (error as { code?: string }).code, message: (error as Error).message });
    return;
  }
  worker.once("message", (result: unknown) => send({ type: "result", result }));
  worker.once("error", (error: Error & { code?: string }) => send({ type: "error", code: error.code, message: error.message }));
  worker.once("exit", (code) => send({ type: "exit", code }));
});
