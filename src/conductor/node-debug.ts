import { performance as clock } from "node:perf_hooks";
import type { z } from "zod";
import { AtomitonError, ErrorCode, toNodeError, type SerializedError } from "../errors.js";
import { checkJavaScript } from "../composite/validate-js.js";
import type { CompiledNode } from "./compile-graph.js";
import type { PauseDecision, PauseTarget } from "./debug-session.js";
import { templateNodes, templateScope } from "./graph-scope.js";
import { attachBody } from "./node-body.js";
import { NodeCtx } from "./node-context.js";
import { emitStart } from "./node-events.js";
import { finishFailed, finishSucceeded } from "./node-finish.js";
import { passesIf } from "./node-inputs.js";
import { retryOrFail } from "./node-retry.js";
import { RUNNING, isThenable, withoutStack } from "./node-state.js";
import { profileAttempt } from "./node-profile.js";
import { executeWithTimeout } from "./node-timeout.js";
import { resolveParameters } from "./resolve-parameters.js";
import type { GraphRun } from "./run-graph.js";

/**
 * The debugger's two stops (`run.debug`, a `DebugSession`): before a node starts (its inputs are
 * known and it was not skipped) and when it failed for good. Entered only when a session is set,
 * so a run without one never reaches this file (and its nodes keep the fast path).
 */

/** Before node `i`'s first attempt: true when the debugger took it over (it pauses, then runs or is skipped). */
export function pauseBefore(g: GraphRun, cn: CompiledNode, i: number, input: unknown, inputs: Record<string, unknown> | undefined): boolean {
  const paused = g.run.debug!.beforeNode(() => pauseTarget(g, cn, i, input, inputs, 1), cn.node.id);
  if (paused === undefined) return false;
  void paused.then((decision) => afterPause(g, cn, i, input, inputs, 1, decision));
  return true;
}

/** A node failed for good: true when the debugger took the failure over (`--break-on-error`). */
export function pauseOnFailure(g: GraphRun, cn: CompiledNode, i: number, input: unknown, inputs: Record<string, unknown> | undefined, attemptNo: number, error: unknown): boolean {
  const serialized = toNodeError(error);
  const pausedAt = clock.now();
  // Attempt 0: it failed before it started (its `if:` threw).
  const paused = g.run.debug!.onFailure(() => pauseTarget(g, cn, i, input, inputs, g.attempts[i] === 0 ? 0 : attemptNo, withoutStack(serialized)));
  if (paused === undefined) return false;
  void paused.then((decision) => {
    if (g.status[i] !== RUNNING) return; // the run ended while paused
    if (decision.action === "fail") {
      // The failure stands: the node's duration is up to its failure, not the time at the prompt.
      g.times[i]! += clock.now() - pausedAt;
      return finishFailed(g, i, error, serialized);
    }
    if (g.attempts[i] !== 0) return afterPause(g, cn, i, input, inputs, attemptNo + 1, decision);
    // It failed before it started (its `if:` threw): a retry is its start, `if:` first.
    if (decision.action === "retry" && cn.node.if !== undefined) {
      try {
        if (!passesIf(g, cn, i, input, inputs)) return;
      } catch (again) {
        return void retryOrFail(g, cn, i, input, inputs, attemptNo, again);
      }
    }
    return afterPause(g, cn, i, input, inputs, 1, decision);
  });
  return true;
}

async function afterPause(g: GraphRun, cn: CompiledNode, i: number, input: unknown, inputs: Record<string, unknown> | undefined, attemptNo: number, decision: PauseDecision): Promise<void> {
  if (g.status[i] !== RUNNING) return; // cancelled (q, Ctrl-C) while paused
  // The pause is not the node's time: its duration starts now.
  g.times[i] = clock.now();
  if (decision.action === "fail") return;
  if (decision.action === "skip") {
    (g.reasons ??= [])[i] = "skipped in the debugger";
    // A value typed at the prompt, not the node's output: no cache key, so `--resume` runs the node
    // again (as it does a pinned one) instead of reusing the value as a success; and not `reused`
    // (nothing was reused: the summary said "1 reused"), its reason says what happened.
    if (g.hashes !== undefined) g.hashes[i] = undefined;
    return finishSucceeded(g, i, decision.output);
  }
  if (decision.parameters !== undefined) (g.edited ??= [])[i] = decision.parameters;
  g.attempts[i] = attemptNo;
  if (g.emitsStart) emitStart(g, i, attemptNo);
  try {
    let out = attemptWith(g, cn, i, input, inputs, attemptNo, g.edited?.[i]);
    if (isThenable(out)) out = await out;
    if (g.status[i] === RUNNING) finishSucceeded(g, i, out);
  } catch (error) {
    if (g.status[i] !== RUNNING) return;
    // Retries (its policy) and then --break-on-error, as for any failed attempt.
    return retryOrFail(g, cn, i, input, inputs, attemptNo, error);
  }
}

/** One attempt with the parameters edited at the prompt (else resolved as usual). */
export function attemptWith(g: GraphRun, cn: CompiledNode, i: number, input: unknown, inputs: Record<string, unknown> | undefined, attemptNo: number, parameters: Record<string, unknown> | undefined): unknown {
  const make = (signal: AbortSignal | undefined): NodeCtx => {
    // Edited and static values are shared (by the session, by the compiled node): NodeCtx copies them on first read.
    const shared = parameters ?? cn.staticParams?.value;
    const ctx = new NodeCtx(g, i, input, inputs, shared, attemptNo);
    if (signal !== undefined) ctx.signal = signal;
    if (shared === undefined) ctx.parameters = resolveParameters(g.run, cn, ctx);
    if (cn.body) attachBody(g, cn, ctx);
    return ctx;
  };
  const ms = cn.node.timeout;
  const run = () => (ms === undefined ? cn.def.execute(make(undefined) as never) : executeWithTimeout(cn, ms, g.signal, make));
  return g.profile !== undefined ? profileAttempt(g.profile, i, run) : run();
}

function pauseTarget(g: GraphRun, cn: CompiledNode, i: number, input: unknown, inputs: Record<string, unknown> | undefined, attemptNo: number, error?: SerializedError): PauseTarget {
  const scope = (): Record<string, unknown> => templateScope(g, input, inputs, cn.primaryIn);
  const target: PauseTarget = {
    runId: g.run.runId,
    nodeId: cn.node.id,
    type: cn.node.type,
    attempt: attemptNo,
    inputs: inputs ?? { [cn.primaryIn]: input },
    resolveParameters: () => {
      const edited = g.edited?.[i];
      if (edited !== undefined) return { ok: true, parameters: edited };
      try {
        const ctx = new NodeCtx(g, i, input, inputs, undefined, attemptNo);
        return { ok: true, parameters: (cn.staticParams !== undefined ? cn.staticParams.value : resolveParameters(g.run, cn, ctx)) as Record<string, unknown> };
      } catch (e) {
        return { ok: false, message: toNodeError(e).message };
      }
    },
    checkParameters: (parameters) => {
      const schema = cn.def.parameters as z.ZodObject;
      const unknown = Object.keys(parameters).filter((k) => !Object.hasOwn(schema.shape, k));
      if (unknown.length > 0) return { ok: false, message: `${cn.node.type} has no parameter ${unknown.map((k) => `"${k}"`).join(", ")} (its parameters: ${Object.keys(schema.shape).join(", ")})` };
      const result = schema.safeParse(parameters);
      if (result.success) {
        // JavaScript is compiled before anything runs; a value `set` at the prompt is checked the same way.
        const checked = result.data as Record<string, unknown>;
        for (const [key, kind] of Object.entries(cn.def.javascript ?? {})) {
          const value = checked[key];
          if (kind === "template" || typeof value !== "string") continue;
          const problem = checkJavaScript(kind, value, checked.async === true);
          if (problem) return { ok: false, message: `${key}: syntax error: ${problem.message}` };
        }
        return { ok: true, parameters: checked };
      }
      return { ok: false, message: result.error.issues.map((issue) => `${issue.path.map(String).join(".") || "parameters"}: ${issue.message}`).join("; ") };
    },
    evaluate: (expression) => {
      const text = expression.trim();
      if (text === "") throw new AtomitonError(ErrorCode.TEMPLATE, "nothing to evaluate", { retryable: false, hint: "p $input, p $nodes.fetch.status, p $item" });
      return g.run.templates.evaluate(text.startsWith("{{") && text.endsWith("}}") ? text.slice(2, -2) : text, scope());
    },
    output: (nodeId) => {
      const nodes = templateNodes(g);
      return nodeId in nodes ? { found: true, value: nodes[nodeId] } : { found: false };
    },
  };
  if (g.iteration !== undefined) target.iteration = g.iteration;
  if (g.options.item !== undefined || g.options.index !== undefined) {
    target.item = g.options.item;
    if (g.options.index !== undefined) target.index = g.options.index;
  }
  if (error) target.error = error;
  return target;
}
