import { z } from "zod";
import { describeValue, durationMsSchema as DurationSchema } from "../js/duration.js";

/** Node ids: letters, digits, `_` and `-`. */
/** Letters, digits, `_` and `-`; not `__proto__`, which records and reports keyed by id would lose. */
export const NODE_ID_PATTERN = /^(?!__proto__$)[A-Za-z0-9_-]+$/;

const RetryObjectSchema = z.object({
  attempts: z.number().int().min(1).max(100).optional(),
  delay: DurationSchema.optional(),
  backoff: z.enum(["fixed", "exponential"]).optional(),
  maxDelay: DurationSchema.optional(),
  jitter: z.union([z.boolean(), z.number().min(0).max(1)]).optional(),
  on: z.array(z.string()).optional(),
});

export const RetrySchema = z.union([z.number().int().min(1).transform((attempts) => ({ attempts })), RetryObjectSchema]);

export const NodeControlSchema = z.object({
  id: z.string({ error: (iss) => `expected a node id string, got ${describeValue(iss.input)}` }).regex(NODE_ID_PATTERN, {
    error: (iss) => (iss.input === "__proto__" ? "`__proto__` cannot be a node id (it is the one name an object key cannot hold); rename the node" : "node ids may contain only letters, digits, `_` and `-`"),
  }),
  type: z.string({ error: (iss) => `expected a node type string, got ${describeValue(iss.input)}` }).min(1),
  name: z.string().optional(),
  description: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).nullable().optional(),
  data: z.record(z.string(), z.unknown()).nullable().optional(),
  timeout: DurationSchema.optional(),
  retry: RetrySchema.optional(),
  onError: z.enum(["fail", "continue", "route"]).optional(),
  if: z.union([z.string(), z.boolean()]).optional(),
  enabled: z.boolean().optional(),
  isolation: z.enum(["vm", "worker"]).optional(),
  ref: z.string().min(1).optional(),
  nodes: z.array(z.unknown()).optional(),
  edges: z.array(z.unknown()).optional(),
});

const VariableObjectSchema = z
  .object({
    type: z.enum(["string", "number", "boolean", "object", "array", "any"]).optional(),
    default: z.unknown().optional(),
    defaultValue: z.unknown().optional(),
    description: z.string().optional(),
  })
  .superRefine((v, ctx) => {
    // A default must be of the declared type, as a `--var` value must (the run would see it as written).
    for (const key of ["default", "defaultValue"] as const) {
      const value = v[key];
      if (value === undefined || value === null || v.type === undefined || fitsType(v.type, value)) continue;
      // JSON has no Infinity or NaN: `1e400` (past the largest number) read as "null is not a number".
      const finite = typeof value !== "number" || Number.isFinite(value);
      const shown = finite ? JSON.stringify(value) : String(value);
      const why = finite || Number.isNaN(value) ? "" : " (a number past ±1.8e308, such as 1e400, reads as Infinity)";
      ctx.addIssue({ code: "custom", path: [key], message: `${shown} is not a ${v.type}, the variable's declared type${why}` });
    }
  });

function fitsType(type: "string" | "number" | "boolean" | "object" | "array" | "any", value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "boolean":
      return typeof value === "boolean";
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && !Array.isArray(value);
    default:
      return true;
  }
}

export const VariableSchema = z.union([
  VariableObjectSchema,
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
  z.array(z.unknown()),
]);

export const SettingsSchema = z.object({
  timeout: DurationSchema.optional(),
  concurrency: z.number().int().min(1).optional(),
  workdir: z.string().optional(),
  runtime: z.object({ timeout: DurationSchema.optional() }).loose().optional(),
  ui: z.unknown().optional(),
});

export const TopLevelSchema = z.object({
  id: z.union([z.string(), z.number()]).optional(),
  name: z.string().optional(),
  description: z.string().optional(),
  version: z.union([z.string(), z.number()]).optional(),
  type: z.string().optional(),
  variables: z.record(z.string(), z.unknown()).nullable().optional(),
  settings: z.record(z.string(), z.unknown()).nullable().optional(),
  secrets: z.array(z.string()).optional(),
  nodes: z.array(z.unknown(), { error: "`nodes` must be a list of nodes" }),
  edges: z.array(z.unknown(), { error: "`edges` must be a list" }).nullable().optional(),
});

export const KNOWN_TOP_KEYS = ["$schema", "id", "name", "description", "version", "type", "variables", "settings", "secrets", "nodes", "edges"];
export const EDITOR_TOP_KEYS = ["metadata", "category", "tags", "author", "created", "modified", "icon"];
export const KNOWN_NODE_KEYS = Object.keys(NodeControlSchema.shape);
export const EDITOR_NODE_KEYS = [
  "metadata", "category", "version", "position", "inputPorts", "outputPorts", "settings", "width", "height",
  "style", "selected", "dragging", "measured", "positionAbsolute", "zIndex", "draggable", "selectable", "icon",
];
export const KNOWN_EDGE_KEYS = ["id", "source", "target", "sourceHandle", "targetHandle", "sourcePort", "targetPort"];
export const EDITOR_EDGE_KEYS = ["type", "animated", "style", "label", "data", "selected", "markerEnd", "markerStart", "zIndex"];
export const KNOWN_SETTINGS_KEYS = ["timeout", "concurrency", "workdir"];
export const KNOWN_VARIABLE_KEYS = Object.keys(VariableObjectSchema.shape);
export const KNOWN_RETRY_KEYS = Object.keys(RetryObjectSchema.shape);
