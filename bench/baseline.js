// The floor: a minimal Kahn ready-queue that awaits each async no-op. Index-based arrays,
// an Int32Array of indegrees, successor arrays, a FIFO ready list and a concurrency limit,
// the same scheduling contract as the conductor (start a node once all its predecessors finished,
// at most `concurrency` at once), with none of its features.

/** Compile a shape once (as the conductor compiles a composite once). */
export function compileBaseline(shape) {
  const successors = Array.from({ length: shape.size }, () => []);
  const indegree = new Int32Array(shape.size);
  for (const [a, b] of shape.edges) {
    successors[a].push(b);
    indegree[b]++;
  }
  return { size: shape.size, successors, indegree };
}

/** Run every node once; resolves when all finished. */
export function runBaseline(graph, concurrency, work) {
  return new Promise((resolve) => {
    const { size, successors } = graph;
    const indegree = graph.indegree.slice();
    const values = new Array(size);
    const ready = new Int32Array(size);
    let head = 0;
    let tail = 0;
    let running = 0;
    let remaining = size;
    for (let i = 0; i < size; i++) if (indegree[i] === 0) ready[tail++] = i;

    const pump = () => {
      while (running < concurrency && head < tail) {
        running++;
        void runNode(ready[head++]);
      }
      if (remaining === 0) resolve(values);
    };
    const runNode = async (i) => {
      values[i] = await work(i);
      running--;
      remaining--;
      for (const s of successors[i]) if (--indegree[s] === 0) ready[tail++] = s;
      pump();
    };
    pump();
  });
}
