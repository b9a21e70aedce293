import { TimeoutError } from "../errors.js";
import { setLongTimeout } from "../js/duration.js";
import { raceSignal } from "../race-signal.js";
import type { CompiledNode } from "./compile-graph.js";
import type { NodeCtx } from "./node-context.js";
import { isThenable } from "./node-state.js";

/**
 * One attempt under the node's `timeout`: the node's signal is any(graph, timer), and its result is
 * raced against the timer, so a node that ignores its signal still fails with `E_TIMEOUT` (retryable).
 * `makeContext` builds the attempt's context around the given signal. What fails or returns
 * synchronously (a template in the parameters, a sync node) does so synchronously, as without a
 * timeout: the scheduler records it before it starts another node, whose failure would otherwise
 * cancel this one after the fact.
 */
export function executeWithTimeout(cn: CompiledNode, ms: number, graphSignal: AbortSignal, makeContext: (signal: AbortSignal) => NodeCtx): unknown {
  const timeoutController = new AbortController();
  const timedOut = (hint?: string): TimeoutError => new TimeoutError(`node "${cn.node.id}" timed out after ${formatMs(ms)}`, { retryable: true, ...(hint === undefined ? {} : { hint }) });
  const timer = setLongTimeout(() => timeoutController.abort(timedOut()), ms);
  const started = performance.now();
  let result: unknown;
  try {
    const ctx = makeContext(AbortSignal.any([graphSignal, timeoutController.signal]));
    ctx.timeoutMs = ms;
    result = cn.def.execute(ctx as never);
  } catch (error) {
    timer.clear();
    throw error;
  }
  // A node whose own synchronous part ran past its time limit (a long loop in a custom node, so the
  // timer could not fire) has still timed out: it ended as succeeded. Only the node's own part
  // counts: a promise that settles late because another node held the event loop is not its fault.
  const overran = performance.now() - started > ms;
  if (!isThenable(result)) {
    timer.clear();
    if (overran) throw timedOut(BLOCKED);
    return result;
  }
  if (overran) {
    timer.clear();
    return overranResult(result, timeoutController, timedOut(BLOCKED));
  }
  return raceSignal(result, timeoutController.signal).finally(() => timer.clear());
}

/**
 * The outcome of a node whose synchronous part overran its limit and returned a promise: its own
 * failure when it has one by the next turn (a sandbox's time limit names the code's own limit), else
 * `late`, with its signal aborted so the rest of its work stops.
 */
function overranResult(result: PromiseLike<unknown>, controller: AbortController, late: TimeoutError): Promise<never> {
  const ownFailure = new Promise<never>((_, reject) => void Promise.resolve(result).then(() => reject(late), reject));
  const nextTurn = new Promise<never>((_, reject) => void setImmediate(() => reject(late)));
  return Promise.race([ownFailure, nextTurn]).catch((error: unknown) => {
    controller.abort(late);
    throw error;
  });
}

const BLOCKED = "the node blocked the event loop past its time limit, so it could not be stopped sooner: move the blocking work off the main thread (a worker thread or a child process), or raise its `timeout`";

function formatMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
