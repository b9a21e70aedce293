/**
 * Group node indexes by dependency level (Kahn): level 0 are the roots, level k nodes depend only
 * on levels < k. Order inside a level is declaration order. Assumes an acyclic graph.
 */
export function computeLevels(count: number, successors: readonly (readonly number[])[]): number[][] {
  const indegree = new Int32Array(count);
  for (const succ of successors) for (const t of succ) indegree[t]!++;
  const levels: number[][] = [];
  let current: number[] = [];
  for (let i = 0; i < count; i++) if (indegree[i] === 0) current.push(i);
  while (current.length > 0) {
    levels.push(current);
    const next: number[] = [];
    for (const i of current) for (const t of successors[i]!) if (--indegree[t]! === 0) next.push(t);
    next.sort((a, b) => a - b);
    current = next;
  }
  return levels;
}
