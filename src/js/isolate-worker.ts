// Entry of the worker thread behind `isolation: worker` (built to dist/isolate-worker.js).
// Runs one piece of user JavaScript in the same sandbox as the vm path (a locked-down context,
// values copied in and out) and posts the result back. The worker's own globals (its `process`)
// are as unreachable as the main thread's.
import { parentPort, workerData } from "node:worker_threads";
import { toNodeError, type SerializedError } from "../errors.js";
import { createSandbox } from "./sandbox.js";
import type { TransformParams } from "./transform-operations.js";

export type IsolatedTask =
  | { kind: "body"; body: string; params: string[]; args: unknown[]; async: boolean }
  | { kind: "expression"; expr: string; scope: Record<string, unknown> }
  | { kind: "transform"; items: unknown[]; params: TransformParams; fn?: string };

/** A failure crosses postMessage as plain fields, already a node error (`fromNodeError` rebuilds it). */
export type IsolatedResult = { ok: true; value: unknown } | { ok: false; error: SerializedError & { name?: string } };

// No time limit inside: the main thread terminates the worker at the node's limit.
const NO_LIMIT = 0;

async function run(task: IsolatedTask): Promise<unknown> {
  const sandbox = createSandbox();
  if (task.kind === "body") {
    const fn = sandbox.compileBody(task.body, task.params, { async: task.async });
    return task.async ? await sandbox.callAsync(fn, task.args, { timeoutMs: NO_LIMIT }) : sandbox.call(fn, task.args, { timeoutMs: NO_LIMIT });
  }
  if (task.kind === "expression") return sandbox.evaluate(sandbox.compileExpression(task.expr), task.scope, NO_LIMIT);
  const fn = task.fn === undefined ? undefined : sandbox.compileFunctionValue(task.fn);
  return sandbox.transform(task.items, task.params, fn, NO_LIMIT);
}

if (parentPort) {
  const port = parentPort;
  run(workerData as IsolatedTask).then(
    (value) => port.postMessage({ ok: true, value } satisfies IsolatedResult),
    (error: unknown) => {
      const name = (error as { name?: unknown } | null | undefined)?.name;
      const sent = { ...toNodeError(error), ...(typeof name === "string" ? { name } : {}) };
      try {
        port.postMessage({ ok: false, error: sent } satisfies IsolatedResult);
      } catch {
        // `details` that cannot be cloned (a function) must not turn the error into a crash.
        const { details: _details, ...rest } = sent;
        port.postMessage({ ok: false, error: rest } satisfies IsolatedResult);
      }
    },
  );
}
