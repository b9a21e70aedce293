import { z } from "zod";
import type { Catalog } from "./catalog.js";
import type { AnyNodeDefinition, PortSpec } from "./define-node.js";

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
  /** `#/$defs/<name>`: a shared definition (zod writes one for a schema used in several places, such as a duration). */
  $ref?: string;
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
export function describeSchemaType(s: JsonSchemaLike | boolean | undefined, defs: Record<string, JsonSchemaLike> = {}): string {
  if (typeof s === "object" && s.$ref?.startsWith("#/$defs/")) {
    const target = defs[s.$ref.slice("#/$defs/".length)];
    if (target !== undefined) return describeSchemaType({ ...target, ...s, $ref: undefined }, defs);
  }
  if (s === undefined || s === true || (typeof s === "object" && Object.keys(s).filter((k) => k !== "description" && k !== "default").length === 0)) return "any";
  if (s === false) return "never";
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return [...new Set(alternatives.map((a) => describeSchemaType(a, defs)))].join(" | ");
  if (Array.isArray(s.type)) return s.type.join(" | ");
  switch (s.type) {
    case "array": {
      const inner = describeSchemaType(s.items, defs);
      return inner === "any" ? "array" : /[ |]/.test(inner) ? `(${inner})[]` : `${inner}[]`;
    }
    case "object": {
      if (s.properties && Object.keys(s.properties).length > 0) return `{ ${Object.keys(s.properties).join(", ")} }`;
      if (typeof s.additionalProperties === "object") {
        const inner = describeSchemaType(s.additionalProperties, defs);
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
  const defs = (schema.$defs ?? {}) as Record<string, JsonSchemaLike>;
  const parameters = Object.entries(props).map(([name, p]) => {
    const doc: ParameterDoc = { name, type: describeSchemaType(p, defs), required: required.has(name) };
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

/** Every node type of a catalog as `atomiton nodes --json` prints it (and serve's `nodes.list` answers). */
export function describeCatalog(catalog: Catalog): NodeDoc[] {
  return catalog.all().map((d) => describeNode(d, catalog.sourceOf(d.type) ?? "builtin"));
}
