import { z } from "zod";
import { AtomitonError, ErrorCode } from "../../errors.js";
import { defineNode, type NodeContext } from "../define-node.js";
import { templateExpressions } from "../../js/templates.js";

const IDENT = /(?<![\w$.'"`])([A-Za-z_][\w$]*)/g;
const RESERVED = new Set(["true", "false", "null", "undefined", "typeof", "instanceof", "new", "in", "of", "this", "void", "NaN", "Infinity"]);

export default defineNode({
  type: "edit-fields",
  title: "Edit Fields",
  description: "Set or compose fields. String values are {{ }} templates over the input's fields, $input, $now and $vars.",
  category: "data",
  parameters: z.object({
    values: z
      .union([z.record(z.string(), z.unknown()), z.string()])
      .default({})
      .describe("field → value; strings are templates: `{{ name }}` reads an input field, `{{ $now }}` is the ISO time"),
    keepOnlySet: z.boolean().default(false).describe("Output only the fields in `values` (otherwise the input's fields are kept too)"),
  }),
  inputs: [{ id: "input", description: "An object whose fields templates can read by name" }],
  outputs: [{ id: "output", description: "The object with the fields set" }],
  rawParameters: ["values"],
  javascript: { values: "template" },
  example: `- id: message
  type: edit-fields
  parameters:
    values:
      greeting: "Hello {{ name }}"
      at: "{{ $now }}"`,
  execute(ctx) {
    const values = parseValues(ctx.parameters.values);
    const input = ctx.input;
    const fields = input !== null && typeof input === "object" && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
    const out: Record<string, unknown> = ctx.parameters.keepOnlySet ? {} : { ...fields };
    for (const [key, value] of Object.entries(values)) out[key] = render(ctx, value, fields);
    return out;
  },
});

function parseValues(v: Record<string, unknown> | string): Record<string, unknown> {
  if (typeof v !== "string") return v;
  try {
    const parsed: unknown = JSON.parse(v);
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AtomitonError(ErrorCode.PARAM, "values: expected a mapping of field → value (or its JSON text)", { retryable: false });
}

function render(ctx: NodeContext, value: unknown, fields: Record<string, unknown>): unknown {
  if (typeof value === "string") {
    if (!value.includes("{{")) return value;
    // Plain names read input fields; a name the input lacks renders empty, as in the Atomiton editor.
    const extra: Record<string, unknown> = { ...fields };
    for (const expr of templateExpressions(value)) {
      for (const m of expr.matchAll(IDENT)) {
        const name = m[1]!;
        if (!(name in extra) && !RESERVED.has(name) && !(name in globalThis)) extra[name] = undefined;
      }
    }
    return ctx.template(value, extra);
  }
  if (Array.isArray(value)) return value.map((v) => render(ctx, v, fields));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = render(ctx, v, fields);
    return out;
  }
  return value;
}
