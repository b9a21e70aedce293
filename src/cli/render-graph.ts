import { computeLevels } from "../composite/levels.js";
import type { CompositeBody, CompositeEdge, CompositeNode } from "../composite/model.js";
import type { Catalog } from "../nodes/catalog.js";
import { dataOutputs } from "../nodes/define-node.js";

export const GRAPH_FORMATS = ["ascii", "mermaid", "dot"] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

export function isGraphFormat(value: string): value is GraphFormat {
  return (GRAPH_FORMATS as readonly string[]).includes(value);
}

/** An edge as drawn: the ends and the ports worth showing (primary ports are left out). */
export interface DrawnEdge {
  edge: CompositeEdge;
  source: CompositeNode;
  target: CompositeNode;
  /** The source port when it is not the source's primary output. */
  sourcePort?: string;
  /** The target port when it is not the target's primary input. */
  targetPort?: string;
}

/** Node label: `id (type)`, or `name (id, type)` when the node has a name. */
export function nodeLabel(node: CompositeNode): string {
  return node.name ? `${node.name} (${node.id}, ${node.type})` : `${node.id} (${node.type})`;
}

/** `true`, `→ data`, `true → data`, or undefined for an edge between primary ports. */
export function edgeLabel(edge: DrawnEdge, arrow = "→"): string | undefined {
  if (edge.sourcePort === undefined && edge.targetPort === undefined) return undefined;
  if (edge.targetPort === undefined) return edge.sourcePort;
  return edge.sourcePort === undefined ? `${arrow} ${edge.targetPort}` : `${edge.sourcePort} ${arrow} ${edge.targetPort}`;
}

/**
 * The edges of a body with their ends resolved. Ports are kept when they say something: a port
 * other than the primary one, or any output of a node with several (condition `true`/`false`).
 */
export function drawnEdges(body: CompositeBody, catalog: Catalog): DrawnEdge[] {
  const byId = new Map(body.nodes.map((n) => [n.id, n]));
  const out: DrawnEdge[] = [];
  for (const edge of body.edges) {
    const source = byId.get(edge.source);
    const target = byId.get(edge.target);
    if (!source || !target) continue;
    const d: DrawnEdge = { edge, source, target };
    const sdef = catalog.get(source.type);
    const tdef = catalog.get(target.type);
    if (edge.sourcePort !== undefined) {
      // Branching nodes (condition: true/false) label every branch, the primary one too.
      const port = sdef?.portAliases?.[edge.sourcePort] ?? edge.sourcePort;
      if (!sdef || port !== dataOutputs(sdef)[0]?.id || dataOutputs(sdef).length > 1) d.sourcePort = edge.sourcePort;
    }
    if (edge.targetPort !== undefined) {
      const port = tdef?.portAliases?.[edge.targetPort] ?? edge.targetPort;
      if (!tdef || port !== tdef.inputs[0]?.id) d.targetPort = edge.targetPort;
    }
    out.push(d);
  }
  return out;
}

/** The body's nodes by dependency level (level 0 = roots), declaration order inside a level. */
export function bodyLevels(body: CompositeBody): CompositeNode[][] {
  const index = new Map(body.nodes.map((n, i) => [n.id, i]));
  const successors: number[][] = body.nodes.map(() => []);
  for (const e of body.edges) {
    const from = index.get(e.source);
    const to = index.get(e.target);
    if (from === undefined || to === undefined || successors[from]!.includes(to)) continue;
    successors[from]!.push(to);
  }
  const levels = computeLevels(body.nodes.length, successors).map((level) => level.map((i) => body.nodes[i]!));
  // A cycle leaves nodes out of every level; show them last rather than lose them.
  const placed = new Set(levels.flat());
  const rest = body.nodes.filter((n) => !placed.has(n));
  if (rest.length > 0) levels.push(rest);
  return levels;
}

/** Container nodes whose body is drawn nested (a loop, group or parallel with nodes). */
export function hasBody(node: CompositeNode): node is CompositeNode & { body: CompositeBody } {
  return node.body !== undefined && node.body.nodes.length > 0;
}

/**
 * Unique, syntax-safe ids for every node of a composite (nested bodies included), keyed by the
 * node object so equal ids in different bodies stay distinct.
 */
export function createIdAllocator(sanitize: (id: string) => string): (node: CompositeNode) => string {
  const assigned = new Map<CompositeNode, string>();
  const used = new Set<string>();
  return (node) => {
    const known = assigned.get(node);
    if (known !== undefined) return known;
    const base = sanitize(node.id);
    let id = base;
    for (let i = 2; used.has(id); i++) id = `${base}_${i}`;
    used.add(id);
    assigned.set(node, id);
    return id;
  };
}
