import type { Composite, CompositeBody } from "../composite/model.js";
import type { Catalog } from "../nodes/catalog.js";
import { nodeCountText } from "../reporters/count-text.js";
import { bodyLevels, drawnEdges, hasBody, nodeLabel } from "./render-graph.js";

export interface AsciiGraphOptions {
  /** Box-drawing characters and arrows; false: plain ASCII (default true). */
  unicode?: boolean;
  /** Wrap level rows to this width (default 100). */
  width?: number;
}

/**
 * The graph for a terminal: the levels top-down (nodes of one level run concurrently), then the
 * edges in the composite's own shorthand (`check.true -> report`). A container's body is drawn
 * under it, indented behind a rule.
 *
 * @example
 * level 0  greet (edit-fields)
 * level 1  shout (transform)  whisper (transform)
 * level 2  join (code)
 */
export function renderAsciiGraph(composite: Composite, catalog: Catalog, options: AsciiGraphOptions = {}): string {
  const unicode = options.unicode ?? true;
  const width = options.width ?? 100;
  const arrow = unicode ? "→" : "->";
  const down = unicode ? "↓" : "v";
  const rule = unicode ? "│ " : "| ";
  const countNodes = (b: CompositeBody): number => b.nodes.reduce((n, node) => n + 1 + (node.body ? countNodes(node.body) : 0), 0);
  const out: string[] = [];
  // Counted as everywhere else: top-level nodes, then those in bodies ("3 nodes + 2 in bodies").
  const title = `${composite.name}: ${nodeCountText(composite.nodes.length, countNodes(composite) - composite.nodes.length)}`;
  out.push(composite.description ? `${title} ${unicode ? "—" : "-"} ${composite.description}` : title, "");

  const writeBody = (body: CompositeBody, indent: string): void => {
    const levels = bodyLevels(body);
    const labelWidth = `level ${levels.length - 1}`.length;
    levels.forEach((level, i) => {
      const head = `${indent}${`level ${i}`.padEnd(labelWidth)}  `;
      const pad = " ".repeat(head.length);
      let line = head;
      for (const node of level) {
        const cell = nodeLabel(node) + (node.enabled === false ? " [disabled]" : node.if !== undefined ? " [if]" : "");
        if (line !== head && line.length + 2 + cell.length > width) {
          out.push(line);
          line = pad;
        }
        line += line === head || line === pad ? cell : `  ${cell}`;
      }
      out.push(line);
      for (const node of level.filter(hasBody)) {
        out.push(`${pad}${rule}${unicode ? "┌" : "+"} body of ${node.id}`);
        writeBody(node.body, `${pad}${rule}`);
      }
      if (i < levels.length - 1) out.push(`${indent}${" ".repeat(labelWidth - 1)}${down}`);
    });
    const edges = drawnEdges(body, catalog);
    if (edges.length > 0) {
      out.push(`${indent}`.trimEnd() === "" ? "" : indent.trimEnd(), `${indent}edges`);
      for (const e of edges) {
        const from = e.sourcePort === undefined ? e.source.id : `${e.source.id}.${e.sourcePort}`;
        const to = e.targetPort === undefined ? e.target.id : `${e.target.id}.${e.targetPort}`;
        out.push(`${indent}  ${from} ${arrow} ${to}`);
      }
    }
  };
  writeBody(composite, "");
  return `${out.join("\n")}\n`;
}
