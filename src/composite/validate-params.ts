import type { z } from "zod";
import { ErrorCode } from "../errors.js";
import type { AnyNodeDefinition } from "../nodes/define-node.js";
import { containsTemplate } from "../js/templates.js";
import type { CompositeNode, Locator } from "./model.js";
import { rememberParsedParameters } from "./parsed-parameters.js";
import { formatPath, makeProblem, type Problem } from "./problem.js";
import { didYouMean } from "./suggest.js";

/** Rename aliased parameters (`filePath` → `path`) in place; the canonical name wins when both are set. */
export function applyParameterAliases(def: AnyNodeDefinition, params: Record<string, unknown>): void {
  for (const [alias, canonical] of Object.entries(def.parameterAliases ?? {})) {
    if (alias in params) {
      if (!(canonical in params)) params[canonical] = params[alias];
      delete params[alias];
    }
  }
}

/**
 * Check a node's parameters against its zod schema (its problems are added to `problems`, which is returned). Values that contain `{{ }}` templates are
 * checked at run time, after they are resolved. Unknown keys are errors in the concise form and
 * warnings in editor files (which carry leftovers of older node versions).
 */
export function validateParameters(
  def: AnyNodeDefinition,
  node: CompositeNode,
  editor: boolean,
  locate: Locator,
  problems: Problem[] = [],
  writtenAs: ReadonlyMap<string, string> = writtenAliases(def, node.parameters),
): Problem[] {
  const params = node.parameters;
  if (def.parameterAliases !== undefined) applyParameterAliases(def, params);

  const shape = def.parameters.shape as Record<string, z.ZodType>;
  for (const key in params) {
    if (!Object.hasOwn(params, key) || Object.hasOwn(shape, key)) continue;
    const known = Object.keys(shape);
    const path = [...node.parametersPath, key];
    const hint = didYouMean(key, known) || (known.length ? `${def.type} parameters: ${known.join(", ")}` : `${def.type} takes no parameters`);
    if (editor) {
      problems.push(makeProblem("W_UNKNOWN_PARAM", `node "${node.id}": parameter \`${key}\` is not used by ${def.type} and is ignored`, locate(path, { key: true }), { hint, path }));
      delete params[key];
    } else {
      problems.push(makeProblem(ErrorCode.PARAM, `node "${node.id}": unknown parameter \`${key}\` for ${def.type}`, locate(path, { key: true }), { hint, path }));
    }
  }

  if (def.literalParameters !== undefined) for (const [pattern, hint] of Object.entries(def.literalParameters)) {
    for (const segs of templatedAt(params, pattern.split("."), [])) {
      const path = [...node.parametersPath, ...segs];
      problems.push(makeProblem(ErrorCode.PARAM, `node "${node.id}": \`${formatPath(segs)}\` may not contain a {{ }} template`, locate(path), { hint, path }));
    }
  }

  const result = (def.parameters as z.ZodObject).safeParse(params);
  if (result.success) rememberParsedParameters(node, def, result.data);
  else {
    const templated = new Set(Object.keys(params).filter((k) => containsTemplate(params[k])));
    for (const issue of result.error.issues) {
      const first = issue.path[0];
      if (typeof first === "string" && templated.has(first)) continue;
      if (issue.code === "unrecognized_keys") continue;
      const segs = issue.path.map((s) => (typeof s === "symbol" ? String(s) : s));
      if (typeof segs[0] === "string" && writtenAs.has(segs[0])) segs[0] = writtenAs.get(segs[0])!;
      const path = [...node.parametersPath, ...segs];
      const present = typeof first === "string" && first in params;
      const loc = present ? locate(path) : locate(node.path);
      const name = formatPath(segs) || "parameters";
      const missing = issue.code === "invalid_type" && !present && segs.length === 1;
      const message = missing ? `missing required parameter \`${name}\`` : `${name}: ${issue.message}`;
      problems.push(
        makeProblem(ErrorCode.PARAM, `node "${node.id}": ${message}`, loc, {
          path,
          hint: describeField(shape, segs[0]),
        }),
      );
    }
  }
  return problems;
}

/**
 * Where each canonical parameter was written, for those given under an alias (so an aliased
 * `filePath` error points at `filePath`); read before `applyParameterAliases` renames them.
 * Most definitions have no aliases: no map is made for them.
 */
export function writtenAliases(def: AnyNodeDefinition, params: Record<string, unknown>): ReadonlyMap<string, string> {
  let writtenAs: Map<string, string> | undefined;
  if (def.parameterAliases !== undefined) {
    for (const [alias, canonical] of Object.entries(def.parameterAliases)) if (alias in params && !(canonical in params)) (writtenAs ??= new Map()).set(canonical, alias);
  }
  return writtenAs ?? NO_ALIASES;
}
const NO_ALIASES: ReadonlyMap<string, string> = new Map();

/** Paths matching `pattern` (`*` = any array index) whose value, or a container on the way, is a templated string. */
function templatedAt(value: unknown, pattern: readonly string[], at: (string | number)[]): (string | number)[][] {
  if (typeof value === "string") return at.length > 0 && containsTemplate(value) ? [at] : [];
  const [head, ...rest] = pattern;
  if (head === undefined || value === null || typeof value !== "object") return [];
  if (head === "*") return Array.isArray(value) ? value.flatMap((item, i) => templatedAt(item, rest, [...at, i])) : [];
  return head in value ? templatedAt((value as Record<string, unknown>)[head], rest, [...at, head]) : [];
}

function describeField(shape: Record<string, z.ZodType>, key: string | number | undefined): string | undefined {
  if (typeof key !== "string") return undefined;
  const field = shape[key];
  const description = field?.description;
  return description ? `${key}: ${description}` : undefined;
}
