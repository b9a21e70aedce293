import type { z } from "zod";
import { AtomitonError, ErrorCode } from "../errors.js";
import type { CompiledNode } from "./compile-graph.js";
import type { NodeCtx } from "./node-context.js";
import type { RunState } from "./run-state.js";
import { renderDeep } from "../js/templates.js";
import { parsedParameters } from "../composite/parsed-parameters.js";

/**
 * A node's parameters for one execution: templates resolved (except the node's raw parameters),
 * then parsed by its zod schema (defaults filled). Parameters without templates are parsed once and
 * kept (see `staticParameters`).
 *
 * Every execution (every run, loop iteration and attempt) gets its own copy (`copyParameters`): a
 * node may change `ctx.parameters` (push to an array, sort it in place) and no other execution sees it.
 */
const emptyParams = new WeakMap<object, { value: unknown }>();

export function resolveParameters(run: RunState, cn: CompiledNode, ctx: NodeCtx): unknown {
  if (!cn.dynamicParams) return copyParameters(staticParameters(cn));
  const raw = new Set(cn.def.rawParameters ?? []);
  const rendered: Record<string, unknown> = {};
  const scope = ctx.scope;
  // Each expression runs under the node's timeout (0: none, so the sandbox's default), like its code.
  for (const [key, value] of Object.entries(cn.node.parameters)) {
    rendered[key] = raw.has(key) ? value : renderDeep(run.templates, value, scope, cn.node.timeout || undefined);
  }
  // Parsing builds new objects, but values zod passes through (z.unknown(), raw parameters) would
  // still be the composite's own: copy those too.
  return copyParameters(parse(cn, rendered));
}

/**
 * Parameters without templates, parsed once and kept on the compiled node (compiled graphs are
 * cached per composite): validation's parse when it made one, else parsed here; nodes without
 * parameters share one parse per node type. The value is
 * shared: never hand it to a node, hand it `copyParameters(value)`.
 */
export function staticParameters(cn: CompiledNode): unknown {
  if (cn.staticParams === undefined) {
    if (Object.keys(cn.node.parameters).length === 0) {
      let empty = emptyParams.get(cn.def);
      if (empty === undefined) {
        empty = { value: parse(cn, {}) };
        emptyParams.set(cn.def, empty);
      }
      cn.staticParams = empty;
    } else {
      cn.staticParams = parsedParameters(cn.node, cn.def) ?? { value: parse(cn, cn.node.parameters) };
    }
  }
  return cn.staticParams.value;
}

function parse(cn: CompiledNode, values: Record<string, unknown>): unknown {
  const result = (cn.def.parameters as z.ZodObject).safeParse(values);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${i.path.map(String).join(".") || "parameters"}: ${i.message}`).join("; ");
  throw new AtomitonError(ErrorCode.PARAM, `invalid parameters for ${cn.def.type}: ${issues}`, {
    retryable: false,
    hint: `run \`atomiton nodes ${cn.def.type}\` to see its parameters`,
  });
}

/**
 * A fresh copy of parsed parameters: plain objects, arrays and dates are copied all the way down;
 * anything else (a class instance or function a custom schema builds) is passed as it is.
 */
export function copyParameters(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let k = 0; k < value.length; k++) out[k] = copyParameters(value[k]);
    return out;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value instanceof Date ? new Date(value.getTime()) : value;
  const out: Record<string, unknown> = proto === null ? Object.create(null) : {};
  for (const key of Object.keys(value)) {
    const copy = copyParameters((value as Record<string, unknown>)[key]);
    // A "__proto__" key from YAML is data: define it, never set the prototype.
    if (key === "__proto__") Object.defineProperty(out, key, { value: copy, enumerable: true, writable: true, configurable: true });
    else out[key] = copy;
  }
  return out;
}
