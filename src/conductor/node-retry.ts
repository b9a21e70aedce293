import { setImmediate as loopTurn } from "node:timers/promises";
import { sleepFor } from "../js/duration.js";
import { TimeoutError, toNodeError } from "../errors.js";
import type { CompiledNode } from "./compile-graph.js";
import { attempt } from "./node-attempt.js";
import { emitRetry, emitStart } from "./node-events.js";
import { finishFailed, finishSucceeded } from "./node-finish.js";
import { RUNNING, isThenable } from "./node-state.js";
import { retryDelay, shouldRetry } from "./retry.js";
import { attemptWith, pauseOnFailure } from "./node-debug.js";
import type { GraphRun } from "./run-graph.js";

/**
 * A failed attempt: retry under the node's policy (`node:retry`, sleep on the graph signal, next
 * attempt), else fail it by its `onError`. Whatever was thrown becomes a node error via `toNodeError`.
 */
export async function retryOrFail(g: GraphRun, cn: CompiledNode, i: number, input: unknown, inputs: Record<string, unknown> | undefined, attemptNo: number, error: unknown): Promise<void> {
  const policy = cn.node.retry;
  // JavaScript that ran into its time limit (`while (true) {}`) blocked the event loop, and with it
  // any signal that came meanwhile: two turns of the loop let that land first, so a Ctrl-C during
  // the loop cancels the run (exit 130) instead of failing this node.
  if (error instanceof TimeoutError) {
    await loopTurn();
    await loopTurn();
  }
  for (;;) {
    if (g.status[i] !== RUNNING) return; // cancelled while it ran
    const serialized = toNodeError(error);
    if (g.attempts[i] === 0 || g.aborted || !shouldRetry(policy, attemptNo, serialized)) {
      if (g.run.debug?.breakOnError && pauseOnFailure(g, cn, i, input, inputs, attemptNo, error)) return;
      return finishFailed(g, i, error, serialized);
    }
    const delayMs = retryDelay(policy!, attemptNo + 1);
    if (g.run.emitRetry) emitRetry(g, i, attemptNo + 1, policy!.attempts, delayMs, serialized);
    try {
      await sleepFor(delayMs, g.signal);
    } catch {
      return; // the graph was aborted while waiting; abortAll recorded this node
    }
    attemptNo++;
    g.attempts[i] = attemptNo;
    if (g.emitsStart) emitStart(g, i, attemptNo);
    try {
      // Parameters set at a debugger prompt hold for the node's retries too.
      const edited = g.edited?.[i];
      let out = edited === undefined ? attempt(g, cn, i, input, inputs, attemptNo) : attemptWith(g, cn, i, input, inputs, attemptNo, edited);
      if (isThenable(out)) out = await out;
      if (g.status[i] === RUNNING) finishSucceeded(g, i, out);
      return;
    } catch (next) {
      error = next;
    }
  }
}
