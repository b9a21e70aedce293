/**
 * Find one cycle in a directed graph given as adjacency lists over ids, in declaration order.
 * Returns the ids along the cycle with the first repeated at the end (`a, b, c, a`), or undefined.
 */
export function findCycle(ids: readonly string[], successors: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 1 | 2>(); // 1 = on stack, 2 = done
  const stack: string[] = [];
  for (const start of ids) {
    if (state.has(start)) continue;
    // Iterative DFS: frames of [id, next successor index].
    const frames: [string, number][] = [[start, 0]];
    state.set(start, 1);
    stack.push(start);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const succ = successors.get(frame[0]) ?? [];
      if (frame[1] < succ.length) {
        const next = succ[frame[1]++]!;
        const s = state.get(next);
        if (s === 1) return [...stack.slice(stack.indexOf(next)), next];
        if (s === undefined) {
          state.set(next, 1);
          stack.push(next);
          frames.push([next, 0]);
        }
      } else {
        state.set(frame[0], 2);
        stack.pop();
        frames.pop();
      }
    }
  }
  return undefined;
}
