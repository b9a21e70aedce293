import { performance as clock } from "node:perf_hooks";
import { AtomitonError, CancelledError, ErrorCode, toSerializedError } from "../errors.js";
import type { StatusCounts } from "../events/event-map.js";
import { emitEnded } from "./node-events.js";
import { CANCELLED, CONTINUED, PENDING, ROUTED, RUNNING, STATUS_NAME, SUCCEEDED, round, withoutStack } from "./node-state.js";
import type { GraphRun, NodeOutcome } from "./run-graph.js";

/** Reason for aborting a graph's signal once it is done (stops stragglers); made once, not per run. */
const GRAPH_FINISHED = new CancelledError("graph finished");

/**
 * Fail-fast, run timeout or Ctrl-C: abort running nodes, cancel pending ones, resolve now. The
 * graph does not wait for a node that ignores its signal; that node's late result is ignored.
 * `internal`: a node of this graph failed (the outcome is already set).
 */
export function abortAll(g: GraphRun, reason: unknown, internal: boolean): void {
  if (g.settled) return;
  g.abortSignal(reason);
  const text = reason instanceof Error ? reason.message : typeof reason === "string" ? reason : "cancelled";
  const mask = g.options.mask;
  const now = clock.now();
  for (let i = 0; i < g.status.length; i++) {
    if (mask && !mask[i]) continue;
    const s = g.status[i];
    if (s !== PENDING && s !== RUNNING) continue;
    g.status[i] = CANCELLED;
    (g.reasons ??= [])[i] = text;
    g.times[i] = s === RUNNING ? now - g.times[i]! : 0;
    if (g.emitsFinish) emitEnded(g, i, "cancelled", text);
  }
  if (!internal) {
    const serialized = toSerializedError(reason);
    // A timeout, or a node's mistake found outside it (an AtomitonError E_NODE: src/cli/run-guards.ts), fails the run; anything else cancels it.
    const failed = serialized.code === ErrorCode.TIMEOUT || (reason instanceof AtomitonError && reason.code === ErrorCode.NODE);
    g.outcome ??= { status: failed ? "failed" : "cancelled", output: undefined, error: withoutStack(serialized), cause: reason };
  }
  finishGraph(g);
}

/** Every node reached a final state (or the graph was aborted): resolve `execute` with the outcome. */
export function finishGraph(g: GraphRun): void {
  if (g.settled) return;
  g.settled = true;
  g.stopListening();
  if (!g.outcome) g.outcome = { status: "succeeded", output: collectOutput(g) };
  else g.abortSignal(GRAPH_FINISHED);
  g.resolve(g.outcome);
}

/** The graph output: the sink's output; with several sinks, a map by id of those that produced one. */
function collectOutput(g: GraphRun): unknown {
  const mask = g.options.mask;
  const sinks = mask ? g.graph.sinks.filter((s) => mask[s]) : g.graph.sinks;
  if (sinks.length === 1) return sinkValue(g, sinks[0]!);
  const out: Record<string, unknown> = {};
  for (const s of sinks) {
    const st = g.status[s];
    if (st === SUCCEEDED || st === CONTINUED || st === ROUTED) out[g.graph.nodes[s]!.node.id] = sinkValue(g, s);
  }
  return out;
}

function sinkValue(g: GraphRun, i: number): unknown {
  const s = g.status[i];
  if (s === SUCCEEDED) return g.ports?.[i] ?? g.values[i];
  if (s === ROUTED) return g.values[i];
  return s === CONTINUED ? null : undefined;
}

/** Outcomes per node id (for the run result). */
export function nodeOutcomes(g: GraphRun): Map<string, NodeOutcome> {
  const out = new Map<string, NodeOutcome>();
  const mask = g.options.mask;
  for (let i = 0; i < g.graph.nodes.length; i++) {
    if (mask && !mask[i]) continue;
    const s = g.status[i]!;
    const o: NodeOutcome = { status: STATUS_NAME[s]!, durationMs: round(g.times[i]!), attempts: g.attempts[i]! };
    if (s === SUCCEEDED && g.values[i] !== undefined) o.output = g.ports?.[i] ?? g.values[i];
    if (g.errors?.[i]) o.error = g.errors[i]!;
    if (g.reasons?.[i]) o.reason = g.reasons[i]!;
    out.set(g.graph.nodes[i]!.node.id, o);
  }
  return out;
}

/** Final states counted by status (top-level nodes of this graph). */
export function statusCounts(g: GraphRun): StatusCounts {
  // Tally the internal states in a small typed array (no keyed property writes per node), then name them.
  const byState = new Int32Array(8);
  const status = g.status;
  const mask = g.options.mask;
  for (let i = 0; i < status.length; i++) if (!mask || mask[i]) byState[status[i]!]!++;
  const counts: StatusCounts = { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 };
  for (let state = 0; state < 8; state++) counts[STATUS_NAME[state]!] += byState[state]!;
  return counts;
}
