import { performance as clock } from "node:perf_hooks";
import { CancelledError, type SerializedError } from "../errors.js";
import { NodeFlag } from "./compile-graph.js";
import { abortAll } from "./graph-end.js";
import { emitEnded, emitFailed, emitSucceeded } from "./node-events.js";
import { CONTINUED, FAILED, ROUTED, SKIPPED, SUCCEEDED, withoutStack } from "./node-state.js";
import type { GraphRun } from "./run-graph.js";

/**
 * A node's last step: record its final state, value and duration, emit `node:finish`, and release
 * its successors (`settle`). A node failing with `onError: fail` aborts the graph instead.
 */
export function finishSucceeded(g: GraphRun, i: number, out: unknown, reused = false): void {
  g.status[i] = SUCCEEDED;
  if ((g.graph.flags[i]! & NodeFlag.PORT_MAP) !== 0 && out !== null && typeof out === "object") setPorts(g, i, out as Record<string, unknown>);
  else g.values[i] = out;
  const now = (g.lastNow = clock.now());
  g.times[i] = now - g.times[i]!;
  if (g.emitsFinish) emitSucceeded(g, i, g.ports?.[i] ?? out, reused);
  g.settle(i);
}

/** A node whose output is a map of ports: keep the map, its primary port's value is its value. */
function setPorts(g: GraphRun, i: number, out: Record<string, unknown>): void {
  (g.ports ??= [])[i] = out;
  g.values[i] = out[g.graph.nodes[i]!.primaryOut];
}

/** `--resume`: the node's earlier output stands in for running it. */
export function finishReused(g: GraphRun, i: number, out: unknown, reusedFrom: string): void {
  (g.reasons ??= [])[i] = `reused from run ${reusedFrom}`;
  if (g.reusedMask) g.reusedMask[i] = 1;
  finishSucceeded(g, i, out, true);
}

/** `--pin` / `replay --from`: the node returns the given value without starting. */
export function finishPinned(g: GraphRun, i: number, out: unknown, reason: string): void {
  (g.reasons ??= [])[i] = reason;
  finishSucceeded(g, i, out, true);
}

export function finishSkipped(g: GraphRun, i: number, reason: string): void {
  g.lastNow = -1;
  g.status[i] = SKIPPED;
  g.times[i] = 0;
  (g.reasons ??= [])[i] = reason;
  if (g.emitsFinish) emitEnded(g, i, "skipped", reason);
  g.settle(i);
}

/** A node failed for good (no retry left): by its `onError`, fail the graph, pass `null` on, or fire its error port. */
export function finishFailed(g: GraphRun, i: number, error: unknown, serialized: SerializedError): void {
  const cn = g.graph.nodes[i]!;
  const mode = cn.node.onError;
  g.status[i] = mode === "continue" ? CONTINUED : mode === "route" ? ROUTED : FAILED;
  (g.errors ??= [])[i] = serialized;
  if (mode === "route") g.values[i] = { message: serialized.message, code: serialized.code, nodeId: cn.node.id };
  const now = (g.lastNow = clock.now());
  g.times[i] = now - g.times[i]!;
  if (g.emitsFinish) emitFailed(g, i, serialized);
  if (mode === "fail") {
    g.outcome = { status: "failed", output: undefined, error: withoutStack(serialized), cause: error, failedNode: cn.node.id };
    g.running--;
    g.remaining--;
    abortAll(g, new CancelledError(`cancelled because node "${cn.node.id}" failed`), true);
    return;
  }
  g.settle(i);
}
