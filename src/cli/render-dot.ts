import type { Composite, CompositeBody, CompositeNode } from "../composite/model.js";
import type { Catalog } from "../nodes/catalog.js";
import { createIdAllocator, drawnEdges, edgeLabel, hasBody, nodeLabel } from "./render-graph.js";

/** A DOT double-quoted string (ids and labels). */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r?\n/g, "\\n")}"`;
}

/**
 * A Graphviz `digraph`: quoted node ids, edges labelled with their ports when not primary, and
 * each container as a `cluster_` subgraph holding the container node and its body (dashed edges
 * lead from the container to the body's roots).
 *
 * @example
 * renderDot(composite, catalog); // pipe into `dot -Tsvg > flow.svg`
 */
export function renderDot(composite: Composite, catalog: Catalog): string {
  const idOf = createIdAllocator((id) => id);
  const lines = [`digraph ${dotString(composite.name)} {`, "  rankdir=TB;", '  node [shape=box, style=rounded, fontname="Helvetica"];', '  edge [fontname="Helvetica", fontsize=10];'];
  let clusters = 0;
  const writeBody = (body: CompositeBody, indent: string): void => {
    for (const node of body.nodes) writeNode(node, indent);
    for (const e of drawnEdges(body, catalog)) {
      const label = edgeLabel(e);
      lines.push(`${indent}${dotString(idOf(e.source))} -> ${dotString(idOf(e.target))}${label === undefined ? "" : ` [label=${dotString(label)}]`};`);
    }
  };
  const writeNode = (node: CompositeNode, indent: string): void => {
    const attrs = [`label=${dotString(nodeLabel(node).replace(/ \(/, "\n("))}`];
    if (node.enabled === false) attrs.push("style=dashed");
    if (!hasBody(node)) {
      lines.push(`${indent}${dotString(idOf(node))} [${attrs.join(", ")}];`);
      return;
    }
    lines.push(`${indent}subgraph ${dotString(`cluster_${clusters++}`)} {`);
    lines.push(`${indent}  label=${dotString(nodeLabel(node))};`, `${indent}  style=rounded;`);
    lines.push(`${indent}  ${dotString(idOf(node))} [${[...attrs, "shape=component"].join(", ")}];`);
    writeBody(node.body, `${indent}  `);
    const inner = new Set(node.body.edges.map((e) => e.target));
    for (const root of node.body.nodes.filter((n) => !inner.has(n.id))) {
      lines.push(`${indent}  ${dotString(idOf(node))} -> ${dotString(idOf(root))} [style=dashed, label="body"];`);
    }
    lines.push(`${indent}}`);
  };
  writeBody(composite, "  ");
  lines.push("}");
  return `${lines.join("\n")}\n`;
}
