/** The per-node facts of one stored run that `runs stats` reads. */
export interface RunSample {
  runId: string;
  nodes: Record<string, { type: string; status?: string; durationMs?: number; reason?: string }>;
}

export interface NodePercentiles {
  nodeId: string;
  type: string;
  /** Runs in which the node ran (succeeded or failed, not reused). */
  runs: number;
  p50: number;
  p95: number;
  /** Its wall time in the newest run, when it ran there. */
  last?: number;
  /** p95 of the runs before the newest, when there are enough of them to judge. */
  earlierP95?: number;
  /** The newest run took longer than `earlierP95`, by at least the floor. */
  regression: boolean;
}

export interface PercentilesOptions {
  /** A regression must also be this many ms over the earlier p95 (timer noise on fast nodes). */
  minDeltaMs: number;
  /** Earlier runs needed before the newest one is judged (default 3). */
  minEarlierRuns?: number;
}

/** The nearest-rank percentile of sorted values: the smallest value with at least p % at or below it. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * p50/p95 of each node's wall time over runs (oldest first), and whether the newest run regressed:
 * its time above the p95 of the runs before it, by at least `minDeltaMs`, with at least
 * `minEarlierRuns` of them. Nodes are listed in the order they first appear.
 */
export function computeNodePercentiles(runs: readonly RunSample[], options: PercentilesOptions): NodePercentiles[] {
  const minEarlier = options.minEarlierRuns ?? 3;
  const samples = new Map<string, { type: string; values: number[]; last?: number }>();
  runs.forEach((run, i) => {
    const newest = i === runs.length - 1;
    for (const [id, n] of Object.entries(run.nodes)) {
      if (n.status !== "succeeded" && n.status !== "failed") continue;
      if (n.durationMs === undefined || n.reason?.startsWith("reused from run")) continue;
      let s = samples.get(id);
      if (!s) samples.set(id, (s = { type: n.type, values: [] }));
      if (newest) s.last = n.durationMs;
      else s.values.push(n.durationMs);
    }
  });
  return [...samples].map(([nodeId, s]) => {
    const earlier = [...s.values].sort((a, b) => a - b);
    const all = (s.last === undefined ? earlier : [...earlier, s.last]).sort((a, b) => a - b);
    const out: NodePercentiles = { nodeId, type: s.type, runs: all.length, p50: percentile(all, 50), p95: percentile(all, 95), regression: false };
    if (s.last !== undefined) out.last = s.last;
    if (earlier.length >= minEarlier) {
      out.earlierP95 = percentile(earlier, 95);
      out.regression = s.last !== undefined && s.last > out.earlierP95 && s.last - out.earlierP95 >= options.minDeltaMs;
    }
    return out;
  });
}
