/** One top-level node that ran, on the run's clock (ms since run start). */
export interface PathNode {
  id: string;
  /** Its plan level (run:start `plan`): 0 for roots. */
  level: number;
  /** First `node:start`. */
  start: number;
  /** Last `node:finish`. */
  end: number;
  /** Cancelled: it ended because of another node (a failure, Ctrl-C), so it does not end the path. */
  cancelled?: boolean;
}

/** The chain of nodes that decided when the run ended. */
export interface CriticalPath {
  /** Node ids, first to last. */
  nodes: string[];
  /** The path's wall time: the sum of its nodes' first start → last finish (queue waits excluded). */
  busyMs: number;
  /** When the path's last node finished (ms since run start). */
  endMs: number;
}

/** Ids of the nodes a node waits for (the composite's edges), or undefined when unknown. */
export type Predecessors = (id: string) => readonly string[] | undefined;

/** Event times are whole milliseconds: a dependency may seem to end up to 1 ms after its dependent starts. */
const CLOCK_SLACK_MS = 1;

/**
 * The critical path of a run: from the node that finished last (not counting cancelled ones), back
 * through the dependency that finished last before it started (the one that released it), to a root.
 *
 * With `predecessors` (the composite's edges) the step back is exact. Without them (a run's events
 * carry the plan's levels, not its edges) it is inferred: the node of a lower level that finished
 * last before this one started. That node either is the releasing dependency or finished even
 * later than it, i.e. it held the slot or the time this node waited for.
 *
 * @example
 * findCriticalPath([{ id: "a", level: 0, start: 0, end: 5 }, { id: "b", level: 1, start: 5, end: 9 }]);
 * // { nodes: ["a", "b"], busyMs: 9, endMs: 9 }
 */
export function findCriticalPath(nodes: readonly PathNode[], predecessors?: Predecessors): CriticalPath | undefined {
  if (nodes.length === 0) return undefined;
  const byId = new Map<string, PathNode>();
  let last: PathNode | undefined;
  for (const n of nodes) byId.set(n.id, n);
  // A node cancelled because another failed ends after it, but the failure decided the run's end.
  for (const ends of [nodes.filter((n) => !n.cancelled), nodes]) {
    for (const n of ends) if (last === undefined || n.end > last.end || (n.end === last.end && n.level >= last.level)) last = n;
    if (last) break;
  }
  if (!last) return undefined;
  const step = predecessors ? exactStep(byId, predecessors) : inferredStep(nodes);
  const path = [last];
  const seen = new Set([last.id]);
  for (let current = step(last); current !== undefined && !seen.has(current.id); current = step(current)) {
    seen.add(current.id);
    path.push(current);
  }
  path.reverse();
  return { nodes: path.map((n) => n.id), busyMs: path.reduce((sum, n) => sum + Math.max(0, n.end - n.start), 0), endMs: last.end };
}

function exactStep(byId: ReadonlyMap<string, PathNode>, predecessors: Predecessors): (n: PathNode) => PathNode | undefined {
  return (n) => {
    let best: PathNode | undefined;
    for (const id of predecessors(n.id) ?? []) {
      const p = byId.get(id);
      if (p && (best === undefined || p.end > best.end || (p.end === best.end && longer(p, best)))) best = p;
    }
    return best;
  };
}

/**
 * Of two dependencies that finished in the same millisecond, the one that ran longer is taken as
 * the one that released the node: the same answer with or without the edges (the run summary
 * infers them, `runs show` and `--profile` have them), and the one that explains the wait.
 */
function longer(a: PathNode, b: PathNode): boolean {
  return a.end - a.start > b.end - b.start;
}

function inferredStep(nodes: readonly PathNode[]): (n: PathNode) => PathNode | undefined {
  // Equal ends (times are whole milliseconds): the higher level last, so the scan back meets the
  // nearest dependency first (in a chain, the node just before), then the longer node (of two
  // dependencies on one level, the one that explains the wait).
  const byEnd = [...nodes].sort((a, b) => a.end - b.end || a.level - b.level || a.end - a.start - (b.end - b.start));
  return (n) => {
    // The last node (by end) that ended before n started, then back to the first of a lower level.
    let lo = 0;
    let hi = byEnd.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (byEnd[mid]!.end <= n.start + CLOCK_SLACK_MS) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo - 1; i >= 0; i--) if (byEnd[i]!.level < n.level) return byEnd[i];
    return undefined;
  };
}

/**
 * Start and finish times of a run's top-level nodes, kept as the events come (O(1) per event), for
 * the critical path in the run summary.
 */
export class PathTimes {
  /** `predecessors`: the composite's edges, when the caller has them (the CLI does): the exact path. */
  constructor(private readonly predecessors?: Predecessors) {}

  private readonly index = new Map<string, number>();
  private readonly levels: number[] = [];
  private readonly ids: string[] = [];
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly cancelled = new Set<number>();
  private runStart = 0;

  /**
   * run:start: the plan's levels and the run's start time. A second run:start is a new attempt of
   * the same run (queue mode: a worker died or handed it back, another resumed it): the path is the
   * new attempt's, on its own clock, as the summary's duration is.
   */
  plan(plan: readonly (readonly string[])[], runStartTs: number): void {
    this.runStart = runStartTs;
    this.starts.fill(Number.NaN);
    this.ends.fill(Number.NaN);
    this.cancelled.clear();
    plan.forEach((level, l) => {
      for (const id of level) {
        if (this.index.has(id)) continue;
        this.index.set(id, this.ids.length);
        this.ids.push(id);
        this.levels.push(l);
        this.starts.push(Number.NaN);
        this.ends.push(Number.NaN);
      }
    });
  }

  start(id: string, ts: number): void {
    const i = this.index.get(id);
    if (i !== undefined && Number.isNaN(this.starts[i]!)) this.starts[i] = ts - this.runStart;
  }

  finish(id: string, ts: number, cancelled = false): void {
    const i = this.index.get(id);
    // A node that never started (skipped, reused, cancelled while pending) is not on any path.
    if (i === undefined || Number.isNaN(this.starts[i]!)) return;
    this.ends[i] = ts - this.runStart;
    if (cancelled) this.cancelled.add(i);
  }

  criticalPath(): CriticalPath | undefined {
    const nodes: PathNode[] = [];
    for (let i = 0; i < this.ids.length; i++) {
      if (Number.isNaN(this.ends[i]!)) continue;
      const node: PathNode = { id: this.ids[i]!, level: this.levels[i]!, start: this.starts[i]!, end: this.ends[i]! };
      if (this.cancelled.has(i)) node.cancelled = true;
      nodes.push(node);
    }
    return findCriticalPath(nodes, this.predecessors);
  }
}
