import type { CompiledNode } from "./compile-graph.js";
import { attachBody } from "./node-body.js";
import { NodeCtx } from "./node-context.js";
import { profileAttempt } from "./node-profile.js";
import { executeWithTimeout } from "./node-timeout.js";
import { resolveParameters } from "./resolve-parameters.js";
import type { GraphRun } from "./run-graph.js";

/**
 * One attempt of a node on the full path: build its context (parameters, body, timeout signal) and
 * call `execute`. Returns the result, or a promise of it: a sync node allocates no extra promise.
 */
export function attempt(g: GraphRun, cn: CompiledNode, i: number, input: unknown, inputs: Record<string, unknown> | undefined, attemptNo: number): unknown {
  if (g.profile !== undefined) return profileAttempt(g.profile, i, () => plainAttempt(g, cn, i, input, inputs, attemptNo));
  return plainAttempt(g, cn, i, input, inputs, attemptNo);
}

function plainAttempt(g: GraphRun, cn: CompiledNode, i: number, input: unknown, inputs: Record<string, unknown> | undefined, attemptNo: number): unknown {
  const ms = cn.node.timeout;
  // A timeout of 0 is no timeout.
  if (!ms) return cn.def.execute(createContext(g, cn, i, input, inputs, undefined, attemptNo) as never);
  return executeWithTimeout(cn, ms, g.signal, (signal) => createContext(g, cn, i, input, inputs, signal, attemptNo));
}

/** `signal` undefined: the graph's own, made only if the node reads it. */
function createContext(g: GraphRun, cn: CompiledNode, i: number, input: unknown, inputs: Record<string, unknown> | undefined, signal: AbortSignal | undefined, attemptNo: number): NodeCtx {
  const ctx = new NodeCtx(g, i, input, inputs, undefined, attemptNo);
  if (signal !== undefined) ctx.signal = signal;
  ctx.parameters = resolveParameters(g.run, cn, ctx);
  if (cn.body) attachBody(g, cn, ctx);
  return ctx;
}
