// Bench graphs: node count plus an edge list (pairs of indexes), and their YAML text.

/** n nodes, each depending on the previous one. */
export function chain(n) {
  const edges = [];
  for (let i = 1; i < n; i++) edges.push([i - 1, i]);
  return { name: `chain ${label(n)}`, size: n, edges };
}

/** One root, `width` nodes depending on it, one join depending on all of them. */
export function fanOut(width) {
  const join = width + 1;
  const edges = [];
  for (let i = 1; i <= width; i++) edges.push([0, i], [i, join]);
  return { name: `fan-out ${label(width)}`, size: width + 2, edges };
}

/** A w×h grid: each node depends on its left and upper neighbours. */
export function grid(w, h) {
  const edges = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (x > 0) edges.push([i - 1, i]);
      if (y > 0) edges.push([i - w, i]);
    }
  }
  return { name: `grid ${w}×${h}`, size: w * h, edges };
}

/** Concise composite YAML: `- { id: nK, type }` nodes and `a -> b` edges. */
export function toYaml(shape, type = "noop") {
  const lines = [`name: ${shape.name.replace(/[^\w-]+/g, "-")}`, "nodes:"];
  for (let i = 0; i < shape.size; i++) lines.push(`  - { id: n${i}, type: ${type} }`);
  lines.push(shape.edges.length ? "edges:" : "edges: []");
  for (const [a, b] of shape.edges) lines.push(`  - n${a} -> n${b}`);
  return `${lines.join("\n")}\n`;
}

function label(n) {
  return n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n);
}
