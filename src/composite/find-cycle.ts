/**
 * Find one cycle in a directed graph over node indexes `0 … count-1`, given as adjacency in CSR form:
 * the successors of `i` are `succList[succStart[i] … succStart[i + 1])`. Starts are tried in index
 * (declaration) order. Returns the indexes along the cycle with the first repeated at the end
 * (`a, b, c, a`), or undefined.
 *
 * Typed arrays, no Map or frame objects: at 100k nodes the Map-keyed version was 3% of reading and
 * running an editor export from the command line (docs/performance.md).
 */
export function findCycle(count: number, succStart: Int32Array, succList: Int32Array): number[] | undefined {
  const state = new Uint8Array(count); // 0 = unseen, 1 = on the stack, 2 = done
  // Iterative DFS: the path's nodes and, per node, the next successor to try.
  const path = new Int32Array(count);
  const next = new Int32Array(count);
  for (let start = 0; start < count; start++) {
    if (state[start] !== 0) continue;
    let depth = 0;
    path[0] = start;
    next[0] = succStart[start]!;
    state[start] = 1;
    while (depth >= 0) {
      const node = path[depth]!;
      const at = next[depth]!;
      if (at < succStart[node + 1]!) {
        next[depth] = at + 1;
        const to = succList[at]!;
        if (state[to] === 1) {
          const cycle: number[] = [];
          let k = depth;
          while (path[k] !== to) k--;
          for (; k <= depth; k++) cycle.push(path[k]!);
          cycle.push(to);
          return cycle;
        }
        if (state[to] === 0) {
          state[to] = 1;
          path[++depth] = to;
          next[depth] = succStart[to]!;
        }
      } else {
        state[node] = 2;
        depth--;
      }
    }
  }
  return undefined;
}

/** Adjacency in CSR form from edge pairs `(from[k], to[k])`, successors in edge order. */
export function adjacency(count: number, from: ArrayLike<number>, to: ArrayLike<number>, edges: number): { start: Int32Array; list: Int32Array } {
  const start = new Int32Array(count + 1);
  for (let k = 0; k < edges; k++) start[from[k]! + 1]!++;
  for (let i = 0; i < count; i++) start[i + 1]! += start[i]!;
  const fill = start.slice(0, count);
  const list = new Int32Array(edges);
  for (let k = 0; k < edges; k++) list[fill[from[k]!]!++] = to[k]!;
  return { start, list };
}

/** At most this many cycles are reported: each needs an edge removed, and a tangle has very many. */
export const MAX_CYCLES = 20;

/**
 * Cycles of the graph, up to MAX_CYCLES, so that validation reports them all at once: after each,
 * its first edge is taken out and the graph searched again, which finds the cycles of other parts
 * of the graph and other cycles through the same nodes. `successors` is the graph's adjacency
 * (from `adjacency(count, from, to, edges)`); an acyclic graph costs one search, as before.
 */
export function findCycles(count: number, from: Int32Array, to: Int32Array, edges: number, successors: { start: Int32Array; list: Int32Array }): number[][] {
  const found: number[][] = [];
  let graph = successors;
  let f = from;
  let t = to;
  let n = edges;
  for (let cycle = findCycle(count, graph.start, graph.list); cycle !== undefined; cycle = findCycle(count, graph.start, graph.list)) {
    found.push(cycle);
    if (found.length >= MAX_CYCLES) break;
    const keptFrom = new Int32Array(n);
    const keptTo = new Int32Array(n);
    let m = 0;
    for (let e = 0; e < n; e++) {
      if (f[e] === cycle[0] && t[e] === cycle[1]) continue;
      keptFrom[m] = f[e]!;
      keptTo[m++] = t[e]!;
    }
    f = keptFrom;
    t = keptTo;
    n = m;
    graph = adjacency(count, f, t, n);
  }
  return found;
}

/**
 * Pairs of nodes joined by more than one edge (`[from, to]`, each pair once), read off the CSR
 * adjacency: a node's successors are compared among themselves, so a graph without such pairs
 * costs one pass and no allocation (big fan-outs use a Set).
 */
export function repeatedPairs(count: number, succStart: Int32Array, succList: Int32Array): [number, number][] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const begin = succStart[i]!;
    const end = succStart[i + 1]!;
    if (end - begin < 2) continue;
    if (end - begin <= 16) {
      // Once per pair: at its second occurrence.
      for (let a = begin + 1; a < end; a++) {
        let before = 0;
        for (let b = begin; b < a; b++) if (succList[b] === succList[a]) before++;
        if (before === 1) pairs.push([i, succList[a]!]);
      }
      continue;
    }
    const seen = new Set<number>();
    const reported = new Set<number>();
    for (let k = begin; k < end; k++) {
      const target = succList[k]!;
      if (!seen.has(target)) seen.add(target);
      else if (!reported.has(target)) {
        reported.add(target);
        pairs.push([i, target]);
      }
    }
  }
  return pairs;
}
