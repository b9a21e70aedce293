import type { CompositeBody, CompositeEdge } from "./model.js";

const BODY_PORTS = new Set(["item", "index"]);

/**
 * Editor files draw a loop's body as ordinary nodes hanging off the loop's `item` port (SPEC §4.9).
 * Move every node reachable from that port, and the edges between them, into the loop's `body`.
 * The entry edges are dropped: the body's root nodes receive the current item as their input.
 */
export function extractLoopBodies(body: CompositeBody): void {
  for (const loop of [...body.nodes]) {
    if (loop.type !== "loop" || loop.body || !body.nodes.includes(loop)) continue;
    const entry = body.edges.filter((e) => e.source === loop.id && e.sourcePort !== undefined && BODY_PORTS.has(e.sourcePort));
    if (entry.length === 0) continue;
    const members = new Set<string>();
    const queue = entry.map((e) => e.target);
    while (queue.length > 0) {
      const id = queue.pop()!;
      if (id === loop.id || members.has(id)) continue;
      members.add(id);
      for (const e of body.edges) if (e.source === id) queue.push(e.target);
    }
    const inner: CompositeEdge[] = [];
    const outer: CompositeEdge[] = [];
    for (const e of body.edges) {
      if (entry.includes(e)) continue;
      (members.has(e.source) && members.has(e.target) ? inner : outer).push(e);
    }
    loop.body = { nodes: body.nodes.filter((n) => members.has(n.id)), edges: inner };
    body.nodes = body.nodes.filter((n) => !members.has(n.id));
    body.edges = outer;
    extractLoopBodies(loop.body);
  }
}
