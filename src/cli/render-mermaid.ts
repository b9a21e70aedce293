import type { Composite, CompositeBody, CompositeNode } from "../composite/model.js";
import type { Catalog } from "../nodes/catalog.js";
import { createIdAllocator, drawnEdges, edgeLabel, hasBody, nodeLabel } from "./render-graph.js";

/**
 * Node ids for mermaid: `n_` + letters, digits and `_`. The prefix keeps clear of the lexer's
 * keywords (`end`, `style`, `class`, `default`, `graph`…), which it matches even as prefixes.
 */
export function mermaidId(id: string): string {
  return `n_${id.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

/**
 * Text inside a mermaid `"…"` string: quotes, `#` and the characters mermaid treats specially
 * become entity codes; newlines become spaces.
 */
export function escapeMermaidText(text: string): string {
  return text
    .replace(/[\r\n\t]+/g, " ")
    .replace(/#/g, "#35;")
    .replace(/"/g, "#quot;")
    .replace(/</g, "#lt;")
    .replace(/>/g, "#gt;")
    .replace(/`/g, "#96;")
    // The lexer reads `direction TB` anywhere on a line as a direction statement.
    .replace(/direction(?=\s+(?:TB|BT|RL|LR|TD))/g, "#100;irection");
}

/**
 * A mermaid `flowchart TD`: one `id["label"]` per node, `a --> b` edges (`a -- "port" --> b`
 * when a port other than the primary one is used), and each container body as a `subgraph`
 * that edges to the container attach to.
 *
 * @example
 * renderMermaid(composite, catalog); // "flowchart TD\n  n_greet[\"greet (edit-fields)\"]\n…"
 */
export function renderMermaid(composite: Composite, catalog: Catalog): string {
  const idOf = createIdAllocator(mermaidId);
  const lines = ["flowchart TD"];
  const writeBody = (body: CompositeBody, indent: string): void => {
    for (const node of body.nodes) writeNode(node, indent);
    for (const e of drawnEdges(body, catalog)) {
      const label = edgeLabel(e);
      const arrow = label === undefined ? "-->" : `-- "${escapeMermaidText(label)}" -->`;
      lines.push(`${indent}${idOf(e.source)} ${arrow} ${idOf(e.target)}`);
    }
  };
  const writeNode = (node: CompositeNode, indent: string): void => {
    const label = `"${escapeMermaidText(nodeLabel(node))}"`;
    if (hasBody(node)) {
      lines.push(`${indent}subgraph ${idOf(node)}[${label}]`);
      writeBody(node.body, `${indent}  `);
      lines.push(`${indent}end`);
    } else {
      lines.push(`${indent}${idOf(node)}[${label}]`);
    }
  };
  writeBody(composite, "  ");
  return `${lines.join("\n")}\n`;
}
