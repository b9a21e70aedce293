import type { AnyNodeDefinition } from "../nodes/define-node.js";
import type { CompositeNode } from "./model.js";

/**
 * What validation's zod parse of a node's parameters gave (defaults filled), for the conductor to
 * take instead of parsing the same object again before the first run (`staticParameters`): about a
 * tenth of running a 10k-node file from the command line. Kept per node, valid only for the same
 * definition and the same parameters object; a composite is not changed after validation (the same
 * trust as `markValidated`). The value is shared: hand out copies, never this.
 */
const parsed = new WeakMap<CompositeNode, { def: AnyNodeDefinition; source: object; value: unknown }>();

export function rememberParsedParameters(node: CompositeNode, def: AnyNodeDefinition, value: unknown): void {
  parsed.set(node, { def, source: node.parameters, value });
}

/** The parse validation made of these parameters for this definition, if it made one. */
export function parsedParameters(node: CompositeNode, def: AnyNodeDefinition): { value: unknown } | undefined {
  const p = parsed.get(node);
  return p !== undefined && p.def === def && p.source === node.parameters ? p : undefined;
}
