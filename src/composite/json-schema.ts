import { z } from "zod";
import { createBuiltinCatalog, type Catalog } from "../nodes/catalog.js";
import type { AnyNodeDefinition } from "../nodes/define-node.js";
import { NODE_ID_PATTERN } from "./raw-schema.js";
import { durationSchema } from "../js/duration.js";

/** Where editors fetch the schema from an installed package (the `yaml-language-server` line). */
export const SCHEMA_PATH = "node_modules/atomiton/schema/composite.json";

const TemplateString = z
  .string()
  .regex(/\{\{[\s\S]*\}\}/)
  .meta({ id: "template", description: "A {{ expression }} template, resolved just before the node runs" });



const Retry = z
  .union([
    z.number().int().min(1).describe("Total attempts, including the first"),
    z.strictObject({
      attempts: z.number().int().min(1).max(100).optional().describe("Total attempts, including the first"),
      delay: durationSchema.optional().describe("Base delay between attempts"),
      backoff: z.enum(["fixed", "exponential"]).optional().describe("How the delay grows (default exponential)"),
      maxDelay: durationSchema.optional().describe("Upper bound of the delay"),
      jitter: z.union([z.boolean(), z.number().min(0).max(1)]).optional().describe("Fraction of the delay randomised (true means 1)"),
      on: z.array(z.string()).optional().describe("Only retry errors with these codes (e.g. E_HTTP_STATUS)"),
    }),
  ])
  .meta({ id: "retry", description: "Retry policy: a number of attempts or { attempts, delay, backoff, maxDelay, jitter, on }" });

const Edge = z
  .union([
    z
      .string()
      .regex(/^\s*[^\s.>-][^\s.]*(\.\S+)?\s*->\s*[^\s.]+(\.\S+)?\s*$/)
      .describe('"source -> target" or "source.port -> target.port"'),
    z.strictObject({
      id: z.string().optional(),
      source: z.string().describe("Source node id"),
      target: z.string().describe("Target node id"),
      sourcePort: z.string().optional().describe("Output port of the source (default: its primary output)"),
      targetPort: z.string().optional().describe("Input port of the target (default: its primary input)"),
      sourceHandle: z.string().optional().describe("Editor name of sourcePort"),
      targetHandle: z.string().optional().describe("Editor name of targetPort"),
    }),
  ])
  .meta({ id: "edge", description: "An edge carries the source port's value to the target port" });

/** Keys every node accepts, whatever its type (SPEC §2.1). */
function commonNodeKeys() {
  return {
    id: z.string().regex(NODE_ID_PATTERN).describe("Unique node id: letters, digits, `_` and `-`"),
    name: z.string().optional().describe("A display name"),
    description: z.string().optional(),
    timeout: durationSchema.optional().describe("Node time limit; the node is aborted and fails with E_TIMEOUT"),
    retry: Retry.optional(),
    onError: z
      .enum(["fail", "continue", "route"])
      .optional()
      .describe("fail (default): fail the run · continue: record the error and pass null on · route: send it to the `error` port"),
    if: z.union([z.string(), z.boolean()]).optional().describe("A JS expression; when false the node is skipped"),
    enabled: z.boolean().optional().describe("false skips the node"),
    isolation: z.enum(["vm", "worker"]).optional().describe("Where user JavaScript runs (worker: a killable thread with memory limits)"),
  };
}

/** A parameter also accepts a `{{ }}` template, checked after it is resolved at run time. */
function allowTemplate(schema: z.ZodType): z.ZodType {
  const description = schema.description;
  let inner: z.ZodType = schema;
  let fallback: { value: unknown } | undefined;
  let optional = false;
  for (;;) {
    if (inner instanceof z.ZodDefault) {
      fallback ??= { value: (inner._zod.def as { defaultValue: unknown }).defaultValue };
      inner = inner.unwrap() as z.ZodType;
    } else if (inner instanceof z.ZodOptional) {
      optional = true;
      inner = inner.unwrap() as z.ZodType;
    } else break;
  }
  if (inner instanceof z.ZodString) return schema;
  let out: z.ZodType = z.union([inner, TemplateString]);
  if (fallback) out = out.default(fallback.value as never);
  else if (optional) out = out.optional();
  return description === undefined ? out : out.describe(description);
}

function parametersSchema(def: AnyNodeDefinition): z.ZodType {
  const shape = def.parameters.shape as Record<string, z.ZodType>;
  const out: Record<string, z.ZodType> = {};
  for (const [key, value] of Object.entries(shape)) out[key] = allowTemplate(value);
  for (const [alias, canonical] of Object.entries(def.parameterAliases ?? {})) {
    const target = shape[canonical];
    if (alias in out || !target) continue;
    out[alias] = allowTemplate(target.optional()).describe(`Alias of \`${canonical}\``);
  }
  return z.strictObject(out).describe(`Parameters of ${def.type}`);
}

/**
 * The zod schema of the concise composite form (SPEC §2.1) with each catalog type's parameters,
 * from which the editor JSON Schema is generated.
 */
export function createConciseSchema(catalog: Catalog = createBuiltinCatalog()): z.ZodType {
  const defs = catalog.all();
  let Node: z.ZodType | undefined;
  const NodeRef = z.lazy(() => Node!).meta({ id: "node", title: "Node", description: "One node: a catalog type with its parameters" });
  const body = (def?: AnyNodeDefinition) =>
    def === undefined || def.container
      ? {
          nodes: z.array(NodeRef).optional().describe("The body: nodes run by this container"),
          edges: z.array(Edge).optional().describe("Edges between the body's nodes"),
        }
      : {};
  const members: z.ZodType[] = defs.map((def) => {
    const names = [def.type, ...(def.aliases ?? [])] as [string, ...string[]];
    return z
      .strictObject({
        ...commonNodeKeys(),
        type: z.enum(names).describe(def.description),
        parameters: parametersSchema(def).optional(),
        ...(def.type === "group" ? { ref: z.string().min(1).optional().describe("Another composite file, relative to this one") } : {}),
        ...body(def),
      })
      .describe(`${def.title}: ${def.description}`);
  });
  const known = defs.flatMap((d) => [d.type, ...(d.aliases ?? [])]).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  members.push(
    z
      .strictObject({
        ...commonNodeKeys(),
        type: z
          .string()
          .regex(new RegExp(`^(?!(?:${known.join("|")})$)[A-Za-z0-9][A-Za-z0-9_-]*$`))
          .describe("A custom node type (loaded with --nodes)"),
        parameters: z.record(z.string(), z.unknown()).optional(),
        ref: z.string().min(1).optional(),
        ...body(),
      })
      .describe("A node of a custom type"),
  );
  Node = z.union(members);

  const Variable = z.union([
    z.strictObject({
      type: z.enum(["string", "number", "boolean", "object", "array", "any"]).optional().describe("--var values are coerced to this type"),
      default: z.unknown().optional(),
      description: z.string().optional(),
    }),
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(z.unknown()),
  ]);

  return z
    .strictObject({
      $schema: z.string().optional(),
      id: z.union([z.string(), z.number()]).optional().describe("Stable id (storage key for `atomiton composites add`); default: a slug of the name"),
      name: z.string().optional().describe("Display name"),
      description: z.string().optional(),
      version: z.union([z.string(), z.number()]).optional(),
      variables: z.record(z.string(), Variable).optional().describe("Variables read as {{ $vars.name }}; override with --var name=value"),
      settings: z
        .strictObject({
          timeout: durationSchema.optional().describe("Whole-run time limit"),
          concurrency: z.number().int().min(1).optional().describe("Nodes running at once"),
          workdir: z.string().optional().describe("Directory relative paths resolve against"),
        })
        .optional(),
      secrets: z.array(z.string()).optional().describe("Names of env vars whose values are redacted everywhere"),
      nodes: z.array(NodeRef).describe("The nodes of the graph"),
      edges: z.array(Edge).optional(),
    })
    .meta({ title: "atomiton composite", description: "A YAML graph of typed nodes run by atomiton (concise form)" });
}

/**
 * The JSON Schema (draft 2020-12) of the concise composite form, generated from the zod schemas
 * with `z.toJSONSchema` — never written by hand. `atomiton schema` prints it; `schema/composite.json`
 * is this output for the built-in catalog.
 *
 * @example
 * const schema = createCompositeJsonSchema();
 * writeFileSync("schema/composite.json", `${JSON.stringify(schema, null, 2)}\n`);
 */
export function createCompositeJsonSchema(catalog?: Catalog): Record<string, unknown> {
  return z.toJSONSchema(createConciseSchema(catalog), { target: "draft-2020-12", io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}

/** The schema as the text of `schema/composite.json`. */
export function renderCompositeJsonSchema(catalog?: Catalog): string {
  return `${JSON.stringify(createCompositeJsonSchema(catalog), null, 2)}\n`;
}
