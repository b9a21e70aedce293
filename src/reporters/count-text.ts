/**
 * How every command says how big a composite is: the top-level nodes (what a run's status counts
 * add up to), and the nodes inside loop, parallel and group bodies apart, since they run once per
 * iteration: `4 nodes + 2 in bodies`, `1 node`.
 */
export function nodeCountText(topLevel: number, inBodies: number): string {
  const nodes = `${topLevel} node${topLevel === 1 ? "" : "s"}`;
  return inBodies > 0 ? `${nodes} + ${inBodies} in bodies` : nodes;
}

/**
 * Loop iterations, counted once however many body nodes each runs: a body node's finish marks
 * iteration `i` of its container, and a container's finish closes its count (so a loop nested in
 * another counts each of its runs).
 */
export class IterationCounter {
  private closed = 0;
  private readonly open = new Map<string, Set<number>>();

  /** A body node of `container` finished in its iteration `iteration`. */
  addBodyFinish(container: string, iteration: number): void {
    let seen = this.open.get(container);
    if (seen === undefined) this.open.set(container, (seen = new Set()));
    seen.add(iteration);
  }

  /** A node finished: when it is a container, its iterations so far are final. */
  addFinish(nodeId: string): void {
    const seen = this.open.get(nodeId);
    if (seen === undefined) return;
    this.closed += seen.size;
    this.open.delete(nodeId);
  }

  get count(): number {
    let n = this.closed;
    for (const seen of this.open.values()) n += seen.size;
    return n;
  }
}
