import { ErrorCode } from "../errors.js";
import type { AnyNodeDefinition, JavaScriptKind } from "../nodes/define-node.js";
import { checkBody, checkExpression, usesAwait, type SyntaxProblem } from "../js/check-syntax.js";
import { checkTemplate, parseTemplate, unwrapExpression } from "../js/templates.js";
import type { CompositeNode, Locator, YamlPath } from "./model.js";
import { formatPath, makeProblem, type Problem } from "./problem.js";
import { blankNonCode, PARAMETER_LISTS, SCOPE_NAMES, unknownScopeNames } from "./scope-names.js";
import { didYouMean } from "./suggest.js";

/**
 * Compile every piece of JavaScript of a node before anything runs (SPEC §4.3): its code bodies,
 * functions and expressions (`NodeDefinition.javascript`), every `{{ }}` template in its other
 * string parameters (raw ones only when declared `template`), and its `if:`. A syntax error is an E_PARAM at its own line and column inside
 * the block; an unterminated `{{` is one too.
 *
 * @param writtenAs canonical parameter name → the alias it was written as (for locations).
 */
export function checkNodeJavaScript(node: CompositeNode, def: AnyNodeDefinition, locate: Locator, writtenAs?: ReadonlyMap<string, string>): Problem[] {
  const problems: Problem[] = [];
  const report = (path: YamlPath, what: string, problem: SyntaxProblem, hint: string) => {
    problems.push(makeProblem(ErrorCode.PARAM, `node "${node.id}": syntax error in ${what}: ${problem.message}`, locate(path, { offset: problem.offset }), { hint, path }));
  };
  // `scoped`: the template sees the run's scope only (a raw parameter's node may add names of its own).
  const templates = (value: unknown, path: YamlPath, name: string, scoped: boolean): void => {
    if (typeof value === "string") {
      if (!value.includes("{{")) return;
      const syntax = checkTemplate(value);
      for (const p of syntax) report(path, `the template of \`${name}\``, p, "a `{{ }}` holds one JavaScript expression over $input, $vars, $nodes…; close every `{{` with `}}`");
      if (scoped && syntax.length === 0 && value.includes("$")) {
        for (const part of parseTemplate(value).parts) if (typeof part !== "string") problems.push(...unknownNames(node, part.expr, part.offset, path, locate));
      }
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => templates(v, [...path, i], name, scoped));
    } else if (value !== null && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) templates(v, [...path, k], name, scoped);
    }
  };

  const raw = def.rawParameters ?? [];
  for (const key of Object.keys(node.parameters)) {
    const value = node.parameters[key];
    const kind = def.javascript?.[key];
    // Paths are made only for values that have something to check (most have no `{{` at all).
    if (kind === undefined || kind === "template") {
      // A raw parameter is the node's own business (a custom node may take a Mustache text), unless it says it holds templates.
      if ((kind === "template" || !raw.includes(key)) && anyStringIncludes(value, "{{")) {
        const written = writtenAs?.get(key) ?? key;
        templates(value, [...node.parametersPath, written], formatPath([written]), !raw.includes(key));
      }
      continue;
    }
    if (typeof value !== "string") continue; // the schema reports a wrong type
    const problem = checkJavaScript(kind, value, node.parameters.async === true);
    if (problem) report([...node.parametersPath, writtenAs?.get(key) ?? key], `\`${key}\``, problem, "JavaScript is compiled before anything runs; fix it at this line and column");
    else if (kind === "expression" && value.includes("$")) {
      // A loop's `condition: "$idx < 5"` failed with "$idx is not defined" when the loop started, after the nodes before it.
      const { expr, offset } = unwrapExpression(value);
      const extra = def.scopeNames?.[key] ?? [];
      problems.push(...unknownNames(node, expr, offset, [...node.parametersPath, writtenAs?.get(key) ?? key], locate, { key, extra }));
    } else if (kind === "function") {
      // A function value is compiled once, outside any run: it sees its own arguments, not the
      // run's scope. It failed at run time with "$vars is not defined", after earlier nodes ran.
      const scope = undeclaredScopeName(value);
      if (scope) {
        const path = [...node.parametersPath, writtenAs?.get(key) ?? key];
        problems.push(
          makeProblem(ErrorCode.PARAM, `node "${node.id}": \`${key}\` cannot use ${scope[0]}: a function parameter sees only its own arguments (the item, its index…), not the run's scope`, locate(path, { offset: scope.index }), {
            hint: "compute the value in a `code` node (its body sees $input, $vars, $nodes…), or put it in a parameter that takes templates",
            path,
          }),
        );
      }
    }
  }
  problems.push(...checkNodeIf(node, locate));
  return problems;
}

/**
 * A node's `if:`: its syntax, and the `$` names it reads. Checked whatever the node's type (a node
 * of an unknown type has its `if:` checked too: every problem at once).
 */
export function checkNodeIf(node: CompositeNode, locate: Locator): Problem[] {
  if (typeof node.if !== "string" || /^\s*(true|false)\s*$/.test(node.if)) return [];
  const path = [...node.path, "if"];
  const problem = checkJavaScript("expression", node.if, false);
  if (problem) {
    return [makeProblem(ErrorCode.PARAM, `node "${node.id}": syntax error in \`if\`: ${problem.message}`, locate(path, { offset: problem.offset }), { hint: "`if:` is one JavaScript expression over $input, $vars, $nodes…", path })];
  }
  const { expr, offset } = unwrapExpression(node.if);
  return unknownNames(node, expr, offset, path, locate);
}

/**
 * E_REF for each `$` name an expression reads that the run's scope does not hold (`$node` for
 * `$nodes`); an `expression` parameter (`where`) may see `extra` names (a while loop's `$last`).
 */
function unknownNames(node: CompositeNode, expr: string, offset: number, path: YamlPath, locate: Locator, parameter?: { key: string; extra: readonly string[] }): Problem[] {
  const names = parameter === undefined ? SCOPE_NAMES : [...SCOPE_NAMES, ...parameter.extra];
  const [holder, it] = parameter === undefined ? ["templates and `if:` have", "they"] : [`\`${parameter.key}\` has`, `\`${parameter.key}\``];
  return unknownScopeNames(expr, parameter?.extra).map(({ name, offset: at }) =>
    makeProblem(ErrorCode.REF, `node "${node.id}": ${name} is not defined: ${holder} no such name`, locate(path, { offset: offset + at }), {
      hint: didYouMean(name, names) || `${it} can use ${names.slice(0, -1).join(", ")} and ${names.at(-1)!}`,
      path,
    }),
  );
}

/** A run scope name (`$vars`, `$input`…) as an identifier: function values cannot see them. */
const SCOPE_NAME = /(?<![\w$])\$(?:input|inputs|vars|env|nodes|item|index|now|run)(?![\w$])/g;

/**
 * The first run scope name a function value reads without declaring it as a parameter of one of its
 * functions (`$item => …`, `x => x.map($item => …)` may), outside strings and comments; with its offset.
 */
function undeclaredScopeName(source: string): { 0: string; index: number } | undefined {
  const code = blankNonCode(source);
  const declared = new Set<string>();
  for (const m of code.matchAll(PARAMETER_LISTS)) for (const name of (m[1] ?? m[2] ?? m[3] ?? "").matchAll(/[\w$]+/g)) declared.add(name[0]);
  for (const match of code.matchAll(SCOPE_NAME)) if (!declared.has(match[0])) return { 0: match[0], index: match.index };
  return undefined;
}

/**
 * Whether any string in `value` (arrays and objects searched through their own keys) contains
 * `needle`: a check that makes no paths, run before walks that make one per value.
 */
export function anyStringIncludes(value: unknown, needle: string): boolean {
  if (typeof value === "string") return value.includes(needle);
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) {
    for (const v of value) if (anyStringIncludes(v, needle)) return true;
    return false;
  }
  for (const k in value) if (Object.hasOwn(value, k) && anyStringIncludes((value as Record<string, unknown>)[k], needle)) return true;
  return false;
}

/** A JavaScript parameter's syntax problem, as validation finds it (the debugger's `set` asks too). */
export function checkJavaScript(kind: Exclude<JavaScriptKind, "template">, text: string, async: boolean): SyntaxProblem | undefined {
  if (kind === "body") return checkBody(text, { async: async || usesAwait(text) });
  if (kind === "function") return text.trim() === "" ? { message: "empty function", offset: 0 } : checkExpression(text);
  const { expr, offset } = unwrapExpression(text);
  if (expr.trim() === "") return { message: "empty expression", offset };
  const problem = checkExpression(expr);
  return problem && { message: problem.message, offset: offset + problem.offset };
}
