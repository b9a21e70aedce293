import type { Catalog } from "../nodes/catalog.js";
import { dataOutputs, type PortSpec } from "../nodes/define-node.js";
import type { NodeDoc } from "../nodes/describe-node.js";
// The node docs moved to nodes/ (serve's nodes.list prints them too); re-exported for existing callers.
export { describeNode, describeSchemaType, parametersJsonSchema } from "../nodes/describe-node.js";
export type { JsonSchemaLike, NodeDoc, ParameterDoc } from "../nodes/describe-node.js";
import type { Style } from "../reporters/style.js";
import { renderTable } from "./render-table.js";

/** The catalog as a table: type, category, description (aliases after it), and the source of custom nodes. */
export function renderNodeTable(catalog: Catalog, style: Style, maxWidth?: number): string {
  const c = style.chalk;
  const defs = catalog.all();
  const custom = defs.some((d) => catalog.sourceOf(d.type) !== "builtin");
  const rows = defs.map((d) => {
    const aliases = d.aliases?.length ? ` (alias ${d.aliases.join(", ")})` : "";
    const row = [d.type, d.category, `${d.description}${aliases}`];
    if (custom) row.splice(2, 0, catalog.sourceOf(d.type) ?? "");
    return row;
  });
  const columns = custom
    ? [{ header: "TYPE" }, { header: "CATEGORY" }, { header: "SOURCE" }, { header: "DESCRIPTION", shrink: true }]
    : [{ header: "TYPE" }, { header: "CATEGORY" }, { header: "DESCRIPTION", shrink: true }];
  return renderTable(columns, rows, { header: (t) => c.bold(t), ellipsis: style.unicode ? "…" : "...", ...(maxWidth === undefined ? {} : { maxWidth }) });
}

/** Word-wrap plain text to `width`, each line prefixed with `indent`. */
export function wrapText(text: string, width: number, indent: string): string[] {
  const out: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line !== "" && indent.length + line.length + 1 + word.length > width) {
        out.push(indent + line);
        line = word;
      } else line = line === "" ? word : `${line} ${word}`;
    }
    out.push(indent + line);
  }
  return out;
}

/** `atomiton nodes <type>`: description, parameters (type, default, doc), ports, aliases and the example. */
export function renderNodeDoc(doc: NodeDoc, style: Style, width = 80): string {
  const c = style.chalk;
  const w = Math.max(40, Math.min(width, 110));
  const out: string[] = [];
  out.push(`${c.bold(doc.type)} ${style.dash} ${doc.title}  ${c.dim(`${doc.category} ${style.dot} ${doc.source}`)}`);
  out.push(...wrapText(doc.description, w, ""));
  out.push("");
  out.push(c.bold("Parameters"));
  if (doc.parameters.length === 0) out.push("  (none)");
  const nameWidth = Math.min(22, Math.max(0, ...doc.parameters.map((p) => p.name.length)));
  for (const p of doc.parameters) {
    const facts = [c.cyan(p.type)];
    if (p.required) facts.push(c.yellow("required"));
    if (p.default !== undefined) facts.push(`default ${c.green(JSON.stringify(p.default))}`);
    out.push(`  ${p.name.padEnd(nameWidth)}  ${facts.join(c.dim(", "))}`);
    if (p.description) out.push(...wrapText(p.description, w, " ".repeat(nameWidth + 4)).map((l) => c.dim(l)));
  }
  const ports = (title: string, list: readonly PortSpec[], primary: string | undefined) => {
    out.push("", c.bold(title));
    if (list.length === 0) out.push("  (none)");
    const pw = Math.max(0, ...list.map((p) => p.id.length));
    for (const p of list) {
      const tag = p.id === primary ? c.dim("(primary) ") : "";
      out.push(`  ${p.id.padEnd(pw)}  ${tag}${p.description ?? ""}`.trimEnd());
    }
  };
  ports("Inputs", doc.inputs, doc.inputs[0]?.id);
  ports("Outputs", doc.outputs, dataOutputs(doc)[0]?.id);
  const aliasLines: string[] = [];
  const arrow = style.unicode ? "→" : "->";
  if (doc.aliases.length > 0) aliasLines.push(`  type        ${doc.aliases.join(", ")} ${arrow} ${doc.type}`);
  const pairs = (m: Record<string, string>) => Object.entries(m).map(([a, b]) => `${a} ${arrow} ${b}`).join(", ");
  if (Object.keys(doc.parameterAliases).length > 0) aliasLines.push(`  parameters  ${pairs(doc.parameterAliases)}`);
  if (Object.keys(doc.portAliases).length > 0) aliasLines.push(`  ports       ${pairs(doc.portAliases)}`);
  if (aliasLines.length > 0) out.push("", c.bold("Aliases"), ...aliasLines);
  if (doc.container) out.push("", c.bold("Body"), "  A container: its nested `nodes`/`edges` form a body it runs (see the example).");
  if (doc.example) {
    out.push("", c.bold("Example"), ...doc.example.split("\n").map((l) => `  ${l}`));
  }
  return `${out.join("\n")}\n`;
}
