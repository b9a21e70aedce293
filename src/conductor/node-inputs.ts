import type { CompiledNode } from "./compile-graph.js";
import { nodeHash } from "./node-hash.js";
import { finishPinned, finishReused, finishSkipped } from "./node-finish.js";
import { CONTINUED, INACTIVE, ROUTED, SKIP_ALL, SKIPPED, SUCCEEDED } from "./node-state.js";
import type { GraphRun } from "./run-graph.js";
import { templateScope } from "./graph-scope.js";

/** `plainInput`'s answer when a source did not succeed: the node needs the full rules. */
export const NOT_PLAIN = Symbol("not plain");

/**
 * The input of a plain node (`NodeFlag.PLAIN`) straight from the flat arrays: the graph input for a
 * root, a source's value, or the array of them in edge order. `NOT_PLAIN` when a source did not succeed.
 */
export function plainInput(g: GraphRun, i: number): unknown {
  const graph = g.graph;
  const from = graph.inStart[i]!;
  const to = graph.inStart[i + 1]!;
  if (from === to) return g.input;
  if (to - from === 1) {
    const source = graph.inFrom[from]!;
    return g.status[source] === SUCCEEDED ? g.values[source] : NOT_PLAIN;
  }
  return plainFanIn(g, from, to);
}

/** Several edges into the primary port: their values in edge order (out of line: the scheduler's hot path stays small). */
function plainFanIn(g: GraphRun, from: number, to: number): unknown {
  const values = new Array<unknown>(to - from);
  for (let k = from; k < to; k++) {
    const source = g.graph.inFrom[k]!;
    if (g.status[source] !== SUCCEEDED) return NOT_PLAIN;
    values[k - from] = g.values[source];
  }
  return values;
}

/**
 * Gather a node's inputs and apply the skip rules, `--resume` reuse, `enabled` and `if:`. Returns
 * false when the node already reached its final state; otherwise leaves its inputs in `g.prepared*`.
 */
export function prepareInputs(g: GraphRun, cn: CompiledNode, i: number): boolean {
  const node = cn.node;
  const pin = g.run.pins?.get(node.id);
  if (pin !== undefined) return finishPinned(g, i, pin.output, pin.reason), false;
  // Root nodes get the graph input; otherwise every active edge, grouped by port.
  // `inputs` stays undefined (built lazily by the context) when only the primary port has a value.
  let input: unknown;
  let inputs: Record<string, unknown> | undefined;
  const edges = cn.inEdges;
  const count = edges.length;
  if (count === 0) {
    input = g.input;
  } else if (cn.allPrimary) {
    // Everything enters the primary port: one value, or an array in edge order for several edges.
    if (count === 1) {
      input = edgeValue(g, edges[0]!.from, edges[0]!.fromPort);
      if (input === INACTIVE) return finishSkipped(g, i, skipReason(g, cn)), false;
    } else {
      const values = new Array<unknown>(count);
      let active = 0;
      for (let k = 0; k < count; k++) {
        const e = edges[k]!;
        const v = edgeValue(g, e.from, e.fromPort);
        if (v !== INACTIVE) values[active++] = v;
      }
      if (active === 0) return finishSkipped(g, i, skipReason(g, cn)), false;
      if (active < count) values.length = active;
      input = values;
    }
  } else {
    inputs = gatherInputs(g, cn);
    if (inputs === SKIP_ALL) return finishSkipped(g, i, skipReason(g, cn)), false;
    input = inputs[cn.primaryIn];
  }
  if (g.hashes) {
    const hash = (g.hashes[i] = nodeHash(cn, inputs ?? { [cn.primaryIn]: input }));
    const previous = g.run.resume?.nodes[node.id];
    if (previous && previous.status === "succeeded" && previous.hash === hash && previous.reusable !== false && upstreamReused(g, cn)) {
      return finishReused(g, i, previous.output, g.run.resume!.runId), false;
    }
  }
  if (!node.enabled) return finishSkipped(g, i, "disabled (enabled: false)"), false;
  // Kept before `if:` is evaluated: an `if:` that throws fails the node with these inputs (the
  // debugger's prompt shows them, and `r` evaluates the `if:` again on them).
  g.preparedInput = input;
  g.preparedInputs = inputs;
  return node.if === undefined || passesIf(g, cn, i, input, inputs);
}

/** The node's `if:` holds; false when it does not, and the node is then skipped. Throws when it throws. */
export function passesIf(g: GraphRun, cn: CompiledNode, i: number, input: unknown, inputs: Record<string, unknown> | undefined): boolean {
  if (evaluateIf(g, cn, input, inputs)) return true;
  finishSkipped(g, i, `if: ${cn.node.if!.trim()} was false`);
  return false;
}

/** Every active edge's value by target port (an array for a port several edges enter); `SKIP_ALL` when none is active. */
function gatherInputs(g: GraphRun, cn: CompiledNode): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  let active = 0;
  for (const e of cn.inEdges) {
    const v = edgeValue(g, e.from, e.fromPort);
    if (v === INACTIVE) continue;
    active++;
    if (!e.multi) inputs[e.toPort] = v;
    else if (e.toPort in inputs) (inputs[e.toPort] as unknown[]).push(v);
    else inputs[e.toPort] = [v];
  }
  return active === 0 ? SKIP_ALL : inputs;
}

/** What an edge from `from`'s `port` carries, or `INACTIVE`. */
function edgeValue(g: GraphRun, from: number, port: string): unknown {
  const s = g.status[from];
  const source = g.graph.nodes[from]!;
  if (s === SUCCEEDED) {
    const map = g.ports?.[from];
    if (map) return port in map && map[port] !== undefined ? map[port] : INACTIVE;
    return port === source.primaryOut ? g.values[from] : INACTIVE;
  }
  if (s === CONTINUED) return port === source.primaryOut ? null : INACTIVE;
  if (s === ROUTED) return port === "error" ? g.values[from] : INACTIVE;
  return INACTIVE;
}

function skipReason(g: GraphRun, cn: CompiledNode): string {
  const e = cn.inEdges[0]!;
  const source = g.graph.nodes[e.from]!;
  const s = g.status[e.from]!;
  const what = s === SKIPPED ? "was skipped" : s === SUCCEEDED || s === ROUTED ? `did not fire port "${e.fromPort}"` : "failed";
  return `upstream "${source.node.id}" ${what}`;
}

function evaluateIf(g: GraphRun, cn: CompiledNode, input: unknown, inputs: Record<string, unknown> | undefined): boolean {
  const text = cn.node.if!.trim();
  if (text === "true") return true;
  if (text === "false") return false;
  const expr = text.startsWith("{{") && text.endsWith("}}") ? text.slice(2, -2) : text;
  return Boolean(g.run.templates.evaluate(expr, templateScope(g, input, inputs, cn.primaryIn), cn.node.timeout || undefined));
}

/** `--resume` re-runs everything downstream of a node that ran again. */
function upstreamReused(g: GraphRun, cn: CompiledNode): boolean {
  if (!g.reusedMask) return true;
  for (const e of cn.inEdges) if (!g.reusedMask[e.from]) return false;
  return true;
}
