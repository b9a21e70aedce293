import type { z } from "zod";
import { AtomitonError, ErrorCode } from "../errors.js";
import type { CompiledNode } from "./compile-graph.js";
import type { NodeCtx } from "./node-context.js";
import type { RunState } from "./run-state.js";
import { renderDeep } from "../js/templates.js";

/**
 * A node's parameters for one execution: templates resolved (except the node's raw parameters),
 * then parsed by its zod schema (defaults filled). Parameters without templates are parsed once per run.
 */
const emptyParams = new WeakMap<object, { value: unknown }>();

export function resolveParameters(run: RunState, cn: CompiledNode, ctx: NodeCtx): unknown {
  if (!cn.dynamicParams) return staticParameters(cn);
  const raw = new Set(cn.def.rawParameters ?? []);
  const rendered: Record<string, unknown> = {};
  const scope = ctx.scope;
  for (const [key, value] of Object.entries(cn.node.parameters)) {
    rendered[key] = raw.has(key) ? value : renderDeep(run.templates, value, scope);
  }
  return parse(cn, rendered);
}

/**
 * Parameters without templates, parsed once and kept on the compiled node (compiled graphs are
 * cached per composite); nodes without parameters share one parse per node type.
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
      cn.staticParams = { value: parse(cn, cn.node.parameters) };
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
