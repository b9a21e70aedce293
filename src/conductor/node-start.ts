import { NodeFlag } from "./compile-graph.js";
import { attempt } from "./node-attempt.js";
import { NodeCtx } from "./node-context.js";
import { emitStart } from "./node-events.js";
import { finishSucceeded } from "./node-finish.js";
import { NOT_PLAIN, plainInput, prepareInputs } from "./node-inputs.js";
import { retryOrFail } from "./node-retry.js";
import { pauseBefore } from "./node-debug.js";
import { RUNNING, isThenable } from "./node-state.js";
import { staticParameters } from "./resolve-parameters.js";
import type { GraphRun } from "./run-graph.js";

/**
 * Start node `i` (the scheduler marked it running): its inputs, its first attempt, and what follows
 * the result. Synchronous: a node that returns a plain value finishes before this returns.
 *
 * Fast path: a plain node (`NodeFlag.PLAIN`, see `needsFullPath`) in a graph run that allows it
 * (`g.fastPath`: not hashed, pinned, debugged, profiled or forced to the full path) whose sources all succeeded
 * reads its input from the flat arrays and runs with its static parameters. Anything else takes the
 * full path, which applies every rule. Both end in the same `finish*` functions, and give the same
 * outcomes and events (test/unit/conductor/fast-path-property.test.ts).
 */
export function startNode(g: GraphRun, i: number): void {
  if (g.fastPath && (g.graph.flags[i]! & NodeFlag.PLAIN) !== 0) {
    const input = plainInput(g, i);
    if (input !== NOT_PLAIN) return startPlain(g, i, input);
  }
  startFull(g, i);
}

function startPlain(g: GraphRun, i: number, input: unknown): void {
  const graph = g.graph;
  let out: unknown;
  try {
    g.attempts[i] = 1;
    if (g.emitsStart) emitStart(g, i, 1);
    let params = graph.params[i];
    if (params === undefined) params = graph.params[i] = staticParameters(graph.nodes[i]!);
    out = graph.defs[i]!.execute(new NodeCtx(g, i, input, undefined, params, 1) as never);
  } catch (error) {
    void retryOrFail(g, graph.nodes[i]!, i, input, undefined, 1, error);
    return;
  }
  followFirst(g, i, out);
}

/** Every rule: skips, `--resume`, `enabled`, `if:`, timeouts, retries, templated parameters. */
function startFull(g: GraphRun, i: number): void {
  const cn = g.graph.nodes[i]!;
  let input: unknown;
  let inputs: Record<string, unknown> | undefined;
  let out: unknown;
  try {
    if (!prepareInputs(g, cn, i)) return;
    input = g.preparedInput;
    inputs = g.preparedInputs;
    if (g.run.debug !== undefined && pauseBefore(g, cn, i, input, inputs)) return;
    g.attempts[i] = 1;
    if (g.emitsStart) emitStart(g, i, 1);
    out = attempt(g, cn, i, input, inputs, 1);
  } catch (error) {
    // Its `if:` threw (it did not start): its inputs are the ones prepareInputs gathered.
    if (g.attempts[i] === 0) ({ preparedInput: input, preparedInputs: inputs } = g);
    void retryOrFail(g, cn, i, input, inputs, 1, error);
    return;
  }
  // Only a node with a retry policy (or under the debugger: `r` retries it) needs its inputs again.
  if ((cn.node.retry !== undefined || g.run.debug !== undefined) && isThenable(out)) void awaitFirst(g, i, out, input, inputs);
  else followFirst(g, i, out);
}

/** The first attempt of a node without a retry policy returned `out`: finish now, or when it settles. */
function followFirst(g: GraphRun, i: number, out: unknown): void {
  if (out instanceof Promise) {
    // Two small closures on a native promise cost less than an async frame and its await.
    out.then(
      (value: unknown) => g.status[i] === RUNNING && finishSucceeded(g, i, value),
      (error: unknown) => retryOrFail(g, g.graph.nodes[i]!, i, undefined, undefined, 1, error),
    );
  } else if (isThenable(out)) {
    void awaitFirst(g, i, out, undefined, undefined);
  } else if (g.status[i] === RUNNING) {
    finishSucceeded(g, i, out);
  }
}

/** A first attempt's thenable (not a native promise, or a node with a retry policy, which keeps its inputs). */
async function awaitFirst(g: GraphRun, i: number, pending: PromiseLike<unknown>, input: unknown, inputs: Record<string, unknown> | undefined): Promise<void> {
  let out: unknown;
  try {
    out = await pending;
  } catch (error) {
    return retryOrFail(g, g.graph.nodes[i]!, i, input, inputs, 1, error);
  }
  if (g.status[i] === RUNNING) finishSucceeded(g, i, out);
}
