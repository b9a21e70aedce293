import { findReferences } from "../js/templates.js";
import type { Composite } from "./model.js";
import { allNodes } from "./normalize.js";
import { suggest } from "./suggest.js";

export interface UnknownVariable {
  name: string;
  /** The closest declared or referenced variable name, when one is close. */
  suggestion?: string;
}

/**
 * The names among `given` (`--var` names) that the composite neither declares under `variables:`
 * nor reads as `$vars.<name>` anywhere (parameters, code, `if`, bodies included): a typo such as
 * `--var nmae=Ada` that would otherwise be ignored.
 */
export function findUnknownVariables(composite: Composite, given: readonly string[]): UnknownVariable[] {
  const declared = new Set(Object.keys(composite.variables));
  const undeclared = given.filter((name) => !declared.has(name));
  if (undeclared.length === 0) return [];
  const known = new Set([...declared, ...referencedVariables(composite)]);
  return undeclared
    .filter((name) => !known.has(name))
    .map((name) => {
      const suggestion = suggest(name, known);
      return suggestion === undefined ? { name } : { name, suggestion };
    });
}

function referencedVariables(composite: Composite): Set<string> {
  const names = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === "string") {
      if (value.includes("$vars")) for (const ref of findReferences(value)) if (ref.kind === "vars") names.add(ref.name);
    } else if (Array.isArray(value)) {
      for (const v of value) visit(v);
    } else if (value !== null && typeof value === "object") {
      for (const v of Object.values(value)) visit(v);
    }
  };
  for (const node of allNodes(composite)) {
    visit(node.parameters);
    if (node.if !== undefined) visit(node.if);
  }
  return names;
}
