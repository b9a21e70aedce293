import { z } from "zod";
import type { Catalog } from "../nodes/catalog.js";
import { dataOutputs, type AnyNodeDefinition, type PortSpec } from "../nodes/define-node.js";
import type { Style } from "../reporters/style.js";
import { renderTable } from "./render-table.js";

/** The slice of a JSON Schema that parameter docs read. */
export interface JsonSchemaLike {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchemaLike[];
  oneOf?: JsonSchemaLike[];
  items?: JsonSchemaLike;
  properties?: Record<string, JsonSchemaLike>;
  additionalProperties?: boolean | JsonSchemaLike;
  required?: string[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
}

export interface ParameterDoc {
  name: string;
  type: string;
  required: boolean;
  default?: unknown;
  description?: string;
}

/** A node type as `atomiton nodes --json` prints it. */
export interface NodeDoc {
  type: string;
  title: string;
  category: string;
  description: string;
  source: string;
  aliases: string[];
  parameters: ParameterDoc[];
  parameterAliases: Record<string, string>;
  inputs: PortSpec[];
  outputs: PortSpec[];
  portAliases: Record<string, string>;
  container: boolean;
  example?: string;
  /** The parameters' JSON Schema (draft 2020-12, input side), generated from the zod schema. */
  schema: Record<string, unknown>;
}

const SAFE_MAX = Number.MAX_SAFE_INTEGER;

/** A short type expression for a JSON Schema: `string`, `"a" | "b"`, `integer ≥ 1`, `string[]`. */
export function describeSchemaType(s: JsonSchemaLike | boolean | undefined): string {
  if (s === undefined || s === true || (typeof s === "object" && Object.keys(s).filter((k) => k !== "description" && k !== "default").length === 0)) return "any";
  if (s === false) return "never";
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return [...new Set(alternatives.map((a) => describeSchemaType(a)))].join(" | ");
  if (Array.isArray(s.type)) return s.type.join(" | ");
  switch (s.type) {
    case "array": {
      const inner = describeSchemaType(s.items);
      return inner === "any" ? "array" : /[ |]/.test(inner) ? `(${inner})[]` : `${inner}[]`;
    }
    case "object": {
      if (s.properties && Object.keys(s.properties).length > 0) return `{ ${Object.keys(s.properties).join(", ")} }`;
      if (typeof s.additionalProperties === "object") {
        const inner = describeSchemaType(s.additionalProperties);
        return inner === "any" ? "object" : `record<string, ${inner}>`;
      }
      return "object";
    }
    case "integer":
    case "number": {
      const parts: string[] = [s.type];
      if (s.minimum !== undefined && s.minimum > -SAFE_MAX) parts.push(`≥ ${s.minimum}`);
      if (s.maximum !== undefined && s.maximum < SAFE_MAX) parts.push(`≤ ${s.maximum}`);
      return parts.join(" ");
    }
    default:
      return s.type ?? "any";
  }
}

/** The parameters' JSON Schema; a schema zod cannot express falls back to an empty object schema. */
export function parametersJsonSchema(def: AnyNodeDefinition): Record<string, unknown> {
  try {
    return z.toJSONSchema(def.parameters, { target: "draft-2020-12", io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  } catch {
    return { type: "object" };
  }
}

export function describeNode(def: AnyNodeDefinition, source: string): NodeDoc {
  const schema = parametersJsonSchema(def);
  const props = (schema.properties ?? {}) as Record<string, JsonSchemaLike>;
  const required = new Set((schema.required ?? []) as string[]);
  const parameters = Object.entries(props).map(([name, p]) => {
    const doc: ParameterDoc = { name, type: describeSchemaType(p), required: required.has(name) };
    if (p.default !== undefined) doc.default = p.default;
    if (p.description !== undefined) doc.description = p.description;
    return doc;
  });
  const doc: NodeDoc = {
    type: def.type,
    title: def.title,
    category: def.category,
    description: def.description,
    source,
    aliases: [...(def.aliases ?? [])],
    parameters,
    parameterAliases: { ...(def.parameterAliases ?? {}) },
    inputs: def.inputs.map((p) => ({ ...p })),
    outputs: def.outputs.map((p) => ({ ...p })),
    portAliases: { ...(def.portAliases ?? {}) },
    container: def.container === true,
    schema,
  };
  if (def.example !== undefined) doc.example = def.example;
  return doc;
}

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
