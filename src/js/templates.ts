import { AtomitonError, ErrorCode } from "../errors.js";
import { checkExpression, type SyntaxProblem } from "./check-syntax.js";
import type { Sandbox, SandboxFunction } from "./sandbox.js";

const TEMPLATE = /\{\{([\s\S]+?)\}\}/g;

/** The names a template can use (SPEC §4.3). Nodes may add more (edit-fields adds input fields). */
export interface TemplateScope {
  $input: unknown;
  $inputs: Record<string, unknown>;
  $vars: Record<string, unknown>;
  $env: Record<string, string | undefined>;
  $nodes: Record<string, unknown>;
  $now: string;
  $run: { id: string; startedAt: string };
  $item?: unknown;
  $index?: number;
  [name: string]: unknown;
}

/** True when a string holds `{{`: a template, or an unterminated one (an error, not literal text). */
export function hasTemplate(text: string): boolean {
  return text.includes("{{");
}

/** A string split into literal text and `{{ expr }}` parts; `offset` is where `expr` starts in the string. */
export type TemplatePart = string | { expr: string; offset: number };

/** Split a template string; a `{{` with no `}}` after it (or an empty `{{}}`) is a problem. */
export function parseTemplate(text: string): { parts: TemplatePart[]; problems: SyntaxProblem[] } {
  const parts: TemplatePart[] = [];
  const problems: SyntaxProblem[] = [];
  let last = 0;
  for (const m of text.matchAll(TEMPLATE)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    parts.push({ expr: m[1]!, offset: m.index + 2 });
    last = m.index + m[0].length;
  }
  const open = text.indexOf("{{", last);
  if (open >= 0) {
    problems.push({ offset: open, message: text.startsWith("{{}}", open) ? "empty template `{{}}`" : "unterminated template: `{{` has no closing `}}`" });
  }
  if (last < text.length) parts.push(text.slice(last));
  return { parts, problems };
}

/** Every syntax problem of a template string: unterminated `{{` and expressions that do not compile. */
export function checkTemplate(text: string): SyntaxProblem[] {
  const { parts, problems } = parseTemplate(text);
  for (const part of parts) {
    if (typeof part === "string") continue;
    if (part.expr.trim() === "") {
      problems.push({ offset: part.offset, message: "empty template expression" });
      continue;
    }
    // A plain path (`$vars.x`) is valid by its shape: nothing to compile.
    const problem = parsePath(part.expr) === undefined ? checkExpression(part.expr) : undefined;
    if (problem) problems.push({ message: problem.message, offset: part.offset + problem.offset });
  }
  return problems.sort((a, b) => a.offset - b.offset);
}

/**
 * An expression parameter (`condition`, loop `while`, `if:`) may be written bare or inside one
 * `{{ }}`; `offset` is where `expr` starts in `text`.
 */
export function unwrapExpression(text: string): { expr: string; offset: number } {
  const lead = text.length - text.trimStart().length;
  const t = text.trim();
  return t.startsWith("{{") && t.endsWith("}}") ? { expr: t.slice(2, -2), offset: lead + 2 } : { expr: t, offset: lead };
}

type Evaluator = (scope: object, timeoutMs?: number) => unknown;

/** Compiles `{{ expr }}` templates once per run and renders them against a scope. */
export interface TemplateEngine {
  /** `timeoutMs`: the time limit of each expression (the node's `timeout`; default the sandbox's 5 s). */
  render(text: string, scope: object, timeoutMs?: number): unknown;
  /** Evaluate a bare JS expression (`if:`, `condition`). */
  evaluate(expr: string, scope: object, timeoutMs?: number): unknown;
}

export function createTemplateEngine(sandbox: Sandbox): TemplateEngine {
  const cache = new Map<string, Evaluator>();
  const expressions = new Map<string, Evaluator>();
  const run = (fn: SandboxFunction, scope: object, expr: string, timeoutMs: number | undefined): unknown => {
    try {
      return sandbox.evaluate(fn, scope, timeoutMs);
    } catch (error) {
      if (error instanceof AtomitonError) throw error;
      const scopeHint = "templates can use $input, $inputs, $vars, $env, $nodes, $now, $run, $item and $index";
      const own = (error as { hint?: unknown }).hint; // what to use instead of a missing host global
      throw new AtomitonError(ErrorCode.TEMPLATE, `template {{ ${expr.trim()} }} failed: ${(error as Error).message}`, {
        retryable: false,
        cause: error,
        hint: typeof own === "string" ? `${own}; ${scopeHint}` : scopeHint,
      });
    }
  };
  const expression = (expr: string): Evaluator => {
    let evaluator = expressions.get(expr);
    if (evaluator === undefined) {
      const path = parsePath(expr);
      if (path === undefined) {
        const fn = sandbox.compileExpression(expr, `{{ ${expr.trim()} }}`);
        evaluator = (scope, timeoutMs) => run(fn, scope, expr, timeoutMs);
      } else {
        // A plain path (`$vars.name`, `$nodes["a"].items[0]`) is read without entering the sandbox.
        let fn: SandboxFunction | undefined;
        evaluator = (scope, timeoutMs) => {
          const value = readPath(scope, path);
          return value !== FALLBACK ? value : run((fn ??= sandbox.compileExpression(expr, `{{ ${expr.trim()} }}`)), scope, expr, timeoutMs);
        };
      }
      expressions.set(expr, evaluator);
    }
    return evaluator;
  };
  const compile = (text: string): Evaluator => {
    const { parts, problems } = parseTemplate(text);
    if (problems.length > 0) {
      throw new AtomitonError(ErrorCode.TEMPLATE, `${problems[0]!.message} in ${JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text)}`, { retryable: false, hint: "close every `{{` with `}}`" });
    }
    if (parts.length === 1 && typeof parts[0] !== "string") return expression(parts[0]!.expr);
    const whole = parts.filter((p) => typeof p !== "string" || p.trim() !== "");
    // A string that is only one template (whitespace around it) yields the raw value.
    if (whole.length === 1 && typeof whole[0] !== "string") return expression(whole[0]!.expr);
    const compiled = parts.map((p) => (typeof p === "string" ? p : expression(p.expr)));
    return (scope, timeoutMs) => {
      let out = "";
      for (const p of compiled) out += typeof p === "string" ? p : stringify(p(scope, timeoutMs));
      return out;
    };
  };
  return {
    render(text, scope, timeoutMs) {
      if (!hasTemplate(text)) return text;
      let fn = cache.get(text);
      if (!fn) {
        fn = compile(text);
        cache.set(text, fn);
      }
      return fn(scope, timeoutMs);
    },
    evaluate(expr, scope, timeoutMs) {
      return expression(expr)(scope, timeoutMs);
    },
  };
}

const FALLBACK = Symbol("fallback");
const PATH = /^\s*([A-Za-z_$][\w$]*)((?:\s*\??\.\s*[A-Za-z_$][\w$]*|\s*(?:\?\.)?\[\s*(?:\d+|"[^"\\]*"|'[^'\\]*')\s*\])*)\s*$/;
const SEGMENT = /(?:(\?\.)\s*|\.\s*)([A-Za-z_$][\w$]*)|(\?\.)?\s*\[\s*(?:(\d+)|"([^"\\]*)"|'([^'\\]*)')\s*\]/g;

interface PathStep {
  key: string;
  optional: boolean;
}

/** `$vars.a`, `$nodes["x"].y[0]`, `$input?.z` as steps; undefined for anything else. */
function parsePath(expr: string): PathStep[] | undefined {
  const m = PATH.exec(expr);
  if (!m) return undefined;
  const steps: PathStep[] = [{ key: m[1]!, optional: false }];
  for (const s of m[2]!.matchAll(SEGMENT)) steps.push({ key: (s[2] ?? s[4] ?? s[5] ?? s[6])!, optional: s[1] !== undefined || s[3] !== undefined });
  return steps;
}

/**
 * Follow a path through own data properties only (no getter, no prototype method, no function
 * value is touched), so no user code runs; anything else is left to the sandbox.
 */
function readPath(scope: object, steps: readonly PathStep[]): unknown {
  if (!Object.hasOwn(scope, steps[0]!.key)) return FALLBACK;
  let value: unknown = (scope as Record<string, unknown>)[steps[0]!.key];
  for (let i = 1; i < steps.length; i++) {
    const { key, optional } = steps[i]!;
    if (value === null || value === undefined) return optional ? undefined : FALLBACK;
    if (typeof value === "string") {
      if (key === "length") value = value.length;
      else if (/^\d+$/.test(key)) value = value[Number(key)];
      else return FALLBACK;
      continue;
    }
    if (typeof value !== "object") return FALLBACK;
    value = readOwn(value, key);
    if (value === FALLBACK) return FALLBACK;
  }
  // `$nodes` itself is the graph's live scope: it gains outputs as nodes finish (a node given it
  // came to hold itself), and a body's holds the enclosing graph's through its prototype, which
  // JSON does not see. A template gets its entries as they are now, in a plain object.
  if (steps.length === 1 && steps[0]!.key === "$nodes" && value !== null && typeof value === "object") return entriesNow(value);
  return typeof value === "function" ? FALLBACK : value;
}

function entriesNow(scope: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in scope) out[key] = (scope as Record<string, unknown>)[key];
  return out;
}

function readOwn(object: object, key: string): unknown {
  for (let o: object | null = object; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    if (o === Object.prototype) return key in o ? FALLBACK : undefined;
    const desc = Object.getOwnPropertyDescriptor(o, key);
    if (desc === undefined) continue;
    return "value" in desc && typeof desc.value !== "function" ? desc.value : FALLBACK;
  }
  return undefined;
}

/** How an interpolated value becomes text: strings as-is, null/undefined empty, objects as JSON. */
export function stringify(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "object") {
    if (value instanceof Date) return value.toISOString();
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/** Resolve templates in every string of a value (objects and arrays walked recursively). */
export function renderDeep(engine: TemplateEngine, value: unknown, scope: object, timeoutMs?: number): unknown {
  if (typeof value === "string") return engine.render(value, scope, timeoutMs);
  if (Array.isArray(value)) return value.map((v) => renderDeep(engine, v, scope, timeoutMs));
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderDeep(engine, v, scope, timeoutMs);
    return out;
  }
  return value;
}

/** True when a value contains a template string anywhere. */
export function containsTemplate(value: unknown): boolean {
  if (typeof value === "string") return hasTemplate(value);
  if (Array.isArray(value)) return value.some(containsTemplate);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsTemplate);
  return false;
}

const REF = /\$(vars|nodes)\s*(?:\.\s*([A-Za-z_$][\w$]*)|\[\s*(["'])(.+?)\3\s*\])/g;

/** `$vars.x` / `$nodes["id"]` references in a template or expression, for validation (E_REF). */
export function findReferences(text: string): { kind: "vars" | "nodes"; name: string; index: number }[] {
  const refs: { kind: "vars" | "nodes"; name: string; index: number }[] = [];
  for (const m of text.matchAll(REF)) refs.push({ kind: m[1] as "vars" | "nodes", name: (m[2] ?? m[4])!, index: m.index });
  return refs;
}

/** The JS expressions inside every `{{ }}` of a string. */
export function templateExpressions(text: string): string[] {
  return [...text.matchAll(TEMPLATE)].map((m) => m[1]!);
}
