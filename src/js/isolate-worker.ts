// Entry of the worker thread behind `isolation: worker` (built to dist/isolate-worker.js).
// Runs one piece of user JavaScript in its own vm context and posts the result back.
import vm from "node:vm";
import { parentPort, workerData } from "node:worker_threads";
import { toNodeError, type SerializedError } from "../errors.js";
import { applyOperation, type TransformParams } from "./transform-operations.js";

export type IsolatedTask =
  | { kind: "body"; body: string; params: string[]; args: unknown[]; async: boolean }
  | { kind: "expression"; expr: string; scope: Record<string, unknown> }
  | { kind: "transform"; items: unknown[]; params: TransformParams; fn?: string };

/** A failure crosses postMessage as plain fields, already a node error (`fromNodeError` rebuilds it). */
export type IsolatedResult = { ok: true; value: unknown } | { ok: false; error: SerializedError & { name?: string } };

async function run(task: IsolatedTask): Promise<unknown> {
  const context = vm.createContext(Object.create(null) as object, { codeGeneration: { strings: false, wasm: false } });
  if (task.kind === "body") {
    const code = task.async ? `return (async () => {\n${task.body}\n})();` : task.body;
    const fn = vm.compileFunction(code, task.params, { parsingContext: context }) as (...a: unknown[]) => unknown;
    return await fn(...task.args);
  }
  if (task.kind === "expression") {
    const fn = vm.compileFunction(`with ($scope) { return (${task.expr}\n); }`, ["$scope"], { parsingContext: context }) as (s: object) => unknown;
    return fn(task.scope);
  }
  const fn = task.fn === undefined ? undefined : (vm.runInContext(`(${task.fn}\n)`, context) as (...a: unknown[]) => unknown);
  return applyOperation(task.items, task.params, fn);
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
