// Entry of the worker thread behind `isolation: worker` (built to dist/isolate-worker.js).
// Runs one piece of user JavaScript in its own vm context and posts the result back.
import vm from "node:vm";
import { parentPort, workerData } from "node:worker_threads";
import { applyOperation, type TransformParams } from "./transform-operations.js";

export type IsolatedTask =
  | { kind: "body"; body: string; params: string[]; args: unknown[]; async: boolean }
  | { kind: "expression"; expr: string; scope: Record<string, unknown> }
  | { kind: "transform"; items: unknown[]; params: TransformParams; fn?: string };

export type IsolatedResult = { ok: true; value: unknown } | { ok: false; error: { message: string; code?: string } };

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
      const e = error as { message?: unknown; code?: unknown };
      port.postMessage({ ok: false, error: { message: String(e?.message ?? error), ...(typeof e?.code === "string" ? { code: e.code } : {}) } } satisfies IsolatedResult);
    },
  );
}
