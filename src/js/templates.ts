import { AtomitonError, ErrorCode } from "../errors.js";
import type { Sandbox } from "./sandbox.js";

const TEMPLATE = /\{\{([\s\S]+?)\}\}/g;
const WHOLE = /^\s*\{\{([\s\S]+?)\}\}\s*$/;

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

export function hasTemplate(text: string): boolean {
  return text.includes("{{") && /\{\{[\s\S]+?\}\}/.test(text);
}

type Compiled = (scope: object) => unknown;

/** Compiles `{{ expr }}` templates once per run and renders them against a scope. */
export interface TemplateEngine {
  render(text: string, scope: object): unknown;
  /** Evaluate a bare JS expression (`if:`, `condition`). */
  evaluate(expr: string, scope: object): unknown;
}

export function createTemplateEngine(sandbox: Sandbox): TemplateEngine {
  const cache = new Map<string, Compiled>();
  const exprCache = new Map<string, (scope: object) => unknown>();
  const expression = (expr: string) => {
    let fn = exprCache.get(expr);
    if (!fn) {
      fn = sandbox.compileExpression(expr, `{{ ${expr.trim()} }}`);
      exprCache.set(expr, fn);
    }
    return fn;
  };
  const run = (fn: (scope: object) => unknown, scope: object, expr: string): unknown => {
    try {
      return sandbox.call(fn, [scope]);
    } catch (error) {
      if (error instanceof AtomitonError) throw error;
      throw new AtomitonError(ErrorCode.TEMPLATE, `template {{ ${expr.trim()} }} failed: ${(error as Error).message}`, {
        retryable: false,
        cause: error,
        hint: "templates can use $input, $inputs, $vars, $env, $nodes, $now, $run, $item and $index",
      });
    }
  };
  const compile = (text: string): Compiled => {
    const whole = WHOLE.exec(text);
    if (whole && !whole[1]!.includes("}}") && text.indexOf("{{") === text.lastIndexOf("{{")) {
      const expr = whole[1]!;
      const fn = expression(expr);
      return (scope) => run(fn, scope, expr);
    }
    const parts: (string | { expr: string; fn: (scope: object) => unknown })[] = [];
    let last = 0;
    for (const m of text.matchAll(TEMPLATE)) {
      if (m.index > last) parts.push(text.slice(last, m.index));
      parts.push({ expr: m[1]!, fn: expression(m[1]!) });
      last = m.index + m[0].length;
    }
    if (last < text.length) parts.push(text.slice(last));
    return (scope) => {
      let out = "";
      for (const p of parts) out += typeof p === "string" ? p : stringify(run(p.fn, scope, p.expr));
      return out;
    };
  };
  return {
    render(text, scope) {
      if (!hasTemplate(text)) return text;
      let fn = cache.get(text);
      if (!fn) {
        fn = compile(text);
        cache.set(text, fn);
      }
      return fn(scope);
    },
    evaluate(expr, scope) {
      return run(expression(expr), scope, expr);
    },
  };
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
export function renderDeep(engine: TemplateEngine, value: unknown, scope: object): unknown {
  if (typeof value === "string") return engine.render(value, scope);
  if (Array.isArray(value)) return value.map((v) => renderDeep(engine, v, scope));
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderDeep(engine, v, scope);
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
export function findReferences(text: string): { kind: "vars" | "nodes"; name: string }[] {
  const refs: { kind: "vars" | "nodes"; name: string }[] = [];
  for (const m of text.matchAll(REF)) refs.push({ kind: m[1] as "vars" | "nodes", name: (m[2] ?? m[4])! });
  return refs;
}

/** The JS expressions inside every `{{ }}` of a string. */
export function templateExpressions(text: string): string[] {
  return [...text.matchAll(TEMPLATE)].map((m) => m[1]!);
}
