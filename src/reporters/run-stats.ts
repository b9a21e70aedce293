import type { SerializedError } from "../errors.js";
import type {
  NodeStatus,
  PlanNodeInfo,
  RunEvent,
  RunFinishEvent,
  RunStartEvent,
  StatusCounts,
} from "../events/event-map.js";
import { PathTimes, type Predecessors } from "./critical-path.js";

import { IterationCounter } from "./count-text.js";

export interface NodeFailure {
  /** `fetch`, or `body#3` for a loop iteration. */
  label: string;
  nodeId: string;
  iteration?: number;
  error: SerializedError;
  /** The run went on: `continue` passed null on, `route` fired the error port. */
  onError?: "continue" | "route";
}

export interface TimedNode {
  nodeId: string;
  durationMs: number;
}

const SLOWEST_KEPT = 5;
const FAILURES_KEPT = 50;

/**
 * What every human-facing reporter needs at the end of a run, kept in O(1) per event:
 * counts, the slowest nodes (a 5-slot insertion list), the first failures.
 * One run's events: loop and group bodies share its `runId` (their node events carry an
 * `iteration`); a `run:finish` with another run id is not this run's and is ignored.
 */
export class RunStats {
  runId: string | undefined;
  composite: RunStartEvent["composite"] | undefined;
  startTs: number | undefined;
  readonly nodes = new Map<string, PlanNodeInfo>();
  readonly counts: StatusCounts = { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 };
  private readonly iterationCounter = new IterationCounter();
  readonly slowest: TimedNode[] = [];
  readonly failures: NodeFailure[] = [];
  failureCount = 0;
  /** Failures by what the node's `onError` made of them (loop iterations included). */
  readonly failureKinds = { fail: 0, continue: 0, route: 0 };
  /** Top-level nodes whose output an earlier run gave (`--resume`; part of `counts.succeeded`). */
  reused = 0;
  /** Top-level nodes that failed and the run went on (part of `counts.failed`). */
  readonly wentOn = { continue: 0, route: 0 };
  finish: RunFinishEvent | undefined;
  /** Time of the latest event seen. */
  lastTs: number | undefined;
  /** Top-level nodes' start and finish times, for the critical path. */
  readonly paths: PathTimes;

  /** `predecessors`: the composite's edges, when known, for the exact critical path (else it is inferred from the plan's levels). */
  constructor(predecessors?: Predecessors) {
    this.paths = new PathTimes(predecessors);
  }

  /** Returns false for events of a foreign run that the caller should ignore. */
  add(event: RunEvent): boolean {
    this.lastTs = Math.max(this.lastTs ?? event.ts, event.ts);
    if (event.type === "run:start") {
      if (this.runId === undefined) {
        this.runId = event.runId;
        this.composite = event.composite;
        this.startTs = event.ts;
      }
      // A later run:start of the same run is a new attempt (queue mode: its worker died or handed it
      // back): the critical path is that attempt's, on its clock, as run:finish's duration is.
      if (event.runId === this.runId) this.paths.plan(event.plan ?? [], event.ts);
      for (const node of event.nodes) if (!this.nodes.has(node.id)) this.nodes.set(node.id, node);
      return true;
    }
    if (event.type === "run:finish") {
      if (this.runId !== undefined && event.runId !== this.runId) return false;
      this.finish = event;
      return true;
    }
    if (event.type === "node:start") {
      if (event.iteration === undefined) this.paths.start(event.nodeId, event.ts);
    } else if (event.type === "node:finish") {
      if (event.iteration === undefined) this.paths.finish(event.nodeId, event.ts, event.status === "cancelled");
      if (event.reused && event.iteration === undefined && !this.isBodyNode(event.nodeId)) this.reused++;
      this.addFinish(event.nodeId, event.status, event.durationMs, event.iteration, event.error);
    }
    return true;
  }

  /** Loop iterations that ran (not body node runs: 3 items × 2 body nodes is 3). */
  get iterations(): number {
    return this.iterationCounter.count;
  }

  /** Top-level nodes, and nodes inside bodies (`4 nodes + 2 in bodies`). */
  nodeCounts(): { topLevel: number; inBodies: number } {
    let inBodies = 0;
    for (const node of this.nodes.values()) if (node.parent !== undefined) inBodies++;
    return { topLevel: this.nodes.size - inBodies, inBodies };
  }

  /** Milliseconds since run:start (0 before it). */
  elapsed(ts: number): number {
    return this.startTs === undefined ? 0 : ts - this.startTs;
  }

  /** True after run:start when run:finish has not come (the caller closed early). */
  isUnfinished(): boolean {
    return this.runId !== undefined && this.finish === undefined;
  }

  /** Status counts: the run:finish counts when there, else the ones seen so far. */
  finalCounts(): StatusCounts {
    return this.finish?.counts ?? this.counts;
  }

  isBodyNode(nodeId: string): boolean {
    return this.nodes.get(nodeId)?.parent !== undefined;
  }

  private addFinish(
    nodeId: string,
    status: NodeStatus,
    durationMs: number,
    iteration: number | undefined,
    error: SerializedError | undefined,
  ): void {
    if (iteration === undefined) {
      this.counts[status] = (this.counts[status] ?? 0) + 1;
      if (status === "succeeded" || status === "failed") this.recordDuration(nodeId, durationMs);
    } else {
      // Iterations are a loop's: a group or parallel body inside a loop carries the loop's iteration too.
      const container = this.nodes.get(nodeId)?.parent;
      if (container !== undefined && this.nodes.get(container)?.type === "loop") this.iterationCounter.addBodyFinish(container, iteration);
    }
    this.iterationCounter.addFinish(nodeId);
    if (status === "failed") {
      this.failureCount++;
      const kind = this.nodes.get(nodeId)?.onError;
      this.failureKinds[kind ?? "fail"]++;
      if (kind !== undefined && iteration === undefined && !this.isBodyNode(nodeId)) this.wentOn[kind]++;
      if (this.failures.length < FAILURES_KEPT) {
        const failure: NodeFailure = {
          label: nodeLabel(nodeId, iteration),
          nodeId,
          error: error ?? { code: "E_NODE", message: "failed", retryable: false },
        };
        if (iteration !== undefined) failure.iteration = iteration;
        if (kind !== undefined) failure.onError = kind;
        this.failures.push(failure);
      }
    }
  }

  private recordDuration(nodeId: string, durationMs: number): void {
    const list = this.slowest;
    if (list.length === SLOWEST_KEPT && durationMs <= (list[list.length - 1]?.durationMs ?? 0)) return;
    let i = list.length;
    while (i > 0 && (list[i - 1]?.durationMs ?? 0) < durationMs) i--;
    list.splice(i, 0, { nodeId, durationMs });
    if (list.length > SLOWEST_KEPT) list.pop();
  }
}

/** `fetch`, or `body#3` for iteration 3 of a loop body node. */
export function nodeLabel(nodeId: string, iteration: number | undefined): string {
  return iteration === undefined ? nodeId : `${nodeId}#${iteration}`;
}
