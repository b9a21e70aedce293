import { AtomitonError, ErrorCode } from "../errors.js";
import type { CompiledNode } from "./compile-graph.js";
import { templateNodes } from "./graph-scope.js";
import type { NodeCtx } from "./node-context.js";
import type { GraphRun, GraphRunOptions } from "./run-graph.js";

/**
 * A container node (loop, group, parallel) gets `ctx.body` and `ctx.runBody`: each call runs its
 * body as a graph of its own (`GraphRun.child`), an iteration or a branch, and returns the body's
 * output or throws its failure as `<node>[index]: message`.
 */
export function attachBody(g: GraphRun, cn: CompiledNode, ctx: NodeCtx): void {
  const body = cn.body!;
  const info = { branches: body.roots.length } as { branches: number; parallelConcurrency?: number };
  if (cn.parallelConcurrency !== undefined) info.parallelConcurrency = cn.parallelConcurrency;
  ctx.body = info;
  ctx.runBody = async (bodyInput, scope = {}) => {
    const options: GraphRunOptions = {
      signal: scope.signal ? AbortSignal.any([ctx.signal, scope.signal]) : ctx.signal,
      concurrency: scope.concurrency ?? g.run.concurrency,
      parentNodes: templateNodes(g),
    };
    const iteration = scope.index ?? g.iteration;
    if (iteration !== undefined) options.iteration = iteration;
    if ("item" in scope) options.item = scope.item;
    else if (g.options.item !== undefined) options.item = g.options.item;
    if (scope.index !== undefined) options.index = scope.index;
    else if (g.options.index !== undefined) options.index = g.options.index;
    if (scope.branch !== undefined) options.mask = body.branchOf(body.roots[scope.branch]!);
    const outcome = await g.child(body, bodyInput, options).execute();
    if (outcome.status === "succeeded") return outcome.output;
    const inner = outcome.error ?? { code: ErrorCode.CANCELLED, message: "cancelled", retryable: false };
    const where = `${outcome.failedNode ?? "body"}${scope.index !== undefined ? `[${scope.index}]` : ""}`;
    throw new AtomitonError(inner.code, `${where}: ${inner.message}`, { retryable: inner.retryable, cause: outcome.cause });
  };
}
