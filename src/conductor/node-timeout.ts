import { TimeoutError } from "../errors.js";
import { raceSignal } from "../race-signal.js";
import type { CompiledNode } from "./compile-graph.js";
import type { NodeCtx } from "./node-context.js";
import { isThenable } from "./node-state.js";

/**
 * One attempt under the node's `timeout`: the node's signal is any(graph, timer), and its result is
 * raced against the timer, so a node that ignores its signal still fails with `E_TIMEOUT` (retryable).
 * `makeContext` builds the attempt's context around the given signal.
 */
export async function executeWithTimeout(cn: CompiledNode, ms: number, graphSignal: AbortSignal, makeContext: (signal: AbortSignal) => NodeCtx): Promise<unknown> {
  const timeoutController = new AbortController();
  const timer = setTimeout(() => timeoutController.abort(new TimeoutError(`node "${cn.node.id}" timed out after ${formatMs(ms)}`, { retryable: true })), ms);
  try {
    const ctx = makeContext(AbortSignal.any([graphSignal, timeoutController.signal]));
    ctx.timeoutMs = ms;
    const result = cn.def.execute(ctx as never);
    return isThenable(result) ? await raceSignal(result, timeoutController.signal) : result;
  } finally {
    clearTimeout(timer);
  }
}

function formatMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
