import { CONTINUED, SUCCEEDED } from "./node-state.js";
import type { GraphRun } from "./run-graph.js";

/** The names templates and code see for a node of this graph. */
export function templateScope(g: GraphRun, input: unknown, inputs: Record<string, unknown> | undefined, primaryIn = "input"): Record<string, unknown> {
  return {
    $input: input,
    $inputs: inputs ?? { [primaryIn]: input },
    $vars: g.run.vars,
    $env: g.run.env,
    $nodes: templateNodes(g),
    $now: new Date().toISOString(),
    $run: { id: g.run.runId, startedAt: g.run.startedIso },
    $item: g.options.item,
    $index: g.options.index,
  };
}

/**
 * `$nodes`: outputs of finished nodes (`onError: continue` reads `null`, as on its edges); inside a
 * body, the enclosing graph's outputs show through. The first read scans the states once; after
 * that the finish order is tracked and only new finishes are added (O(n) over the whole run).
 */
export function templateNodes(g: GraphRun): Record<string, unknown> {
  let scope = g.nodesScope;
  if (!scope || !g.finishOrder) {
    scope = g.nodesScope = Object.create(g.options.parentNodes ?? null) as Record<string, unknown>;
    for (let i = 0; i < g.status.length; i++) addFinished(g, scope, i);
    g.finishOrder = [];
    g.nodesScopeFilled = 0;
    return scope;
  }
  const order = g.finishOrder;
  for (; g.nodesScopeFilled < order.length; g.nodesScopeFilled++) addFinished(g, scope, order[g.nodesScopeFilled]!);
  return scope;
}

function addFinished(g: GraphRun, scope: Record<string, unknown>, i: number): void {
  const s = g.status[i];
  if (s === SUCCEEDED || s === CONTINUED) scope[g.graph.nodes[i]!.node.id] = s === CONTINUED ? null : g.values[i];
}
