import vm from "node:vm";
import { AtomitonError, ErrorCode, TimeoutError } from "../errors.js";

/** Default time limit for synchronous user JS (templates, code, transform, condition). */
export const DEFAULT_CODE_TIMEOUT_MS = 5_000;

/**
 * A `node:vm` context for user JavaScript: fresh built-ins, no `process`, `require`, `import` or
 * host globals. One per run; functions are compiled once and called many times.
 * Note: vm is a guard against accidents, not a security boundary against hostile code.
 */
export interface Sandbox {
  /** Compile `expr` as an expression over the names of a scope object (`with`-scoped). */
  compileExpression(expr: string, origin?: string): (scope: object) => unknown;
  /** Compile a JS function body taking `params`. `async` allows `await`. */
  compileBody(body: string, params: readonly string[], options?: { async?: boolean; origin?: string }): (...args: unknown[]) => unknown;
  /** Evaluate a function-valued expression such as `x => x * 2` or `function (a) { … }`. */
  compileFunctionValue(source: string, origin?: string): (...args: unknown[]) => unknown;
  /** Call `fn(...args)` with a synchronous time limit; an infinite loop becomes E_TIMEOUT. */
  call<T>(fn: (...args: never[]) => T, args: readonly unknown[], timeoutMs?: number): T;
}

const CALLER = new vm.Script("__atomiton_fn.apply(undefined, __atomiton_args)", { filename: "atomiton:sandbox" });

export function createSandbox(): Sandbox {
  const globals = Object.create(null) as Record<string, unknown>;
  globals.console = { log() {}, info() {}, warn() {}, error() {}, debug() {} };
  const context = vm.createContext(globals, { name: "atomiton", codeGeneration: { strings: false, wasm: false } });
  const compileError = (error: unknown, origin?: string): AtomitonError =>
    new AtomitonError(ErrorCode.CODE, `${origin ? `${origin}: ` : ""}cannot compile JavaScript: ${(error as Error).message}`, {
      retryable: false,
      cause: error,
      hint: "check the syntax of the expression or function body",
    });

  // Compiled once per run: the same source is never compiled twice (loops call nodes many times).
  const cache = new Map<string, unknown>();
  function cached<F>(key: string, make: () => F): F {
    let fn = cache.get(key) as F | undefined;
    if (fn === undefined) {
      fn = make();
      cache.set(key, fn);
    }
    return fn;
  }

  return {
    compileExpression(expr, origin) {
      return cached(`e\0${expr}`, () => {
        try {
          return vm.compileFunction(`with ($scope) { return (${expr}\n); }`, ["$scope"], { parsingContext: context }) as (scope: object) => unknown;
        } catch (error) {
          throw compileError(error, origin);
        }
      });
    },
    compileBody(body, params, options = {}) {
      const code = options.async ? `return (async () => {\n${body}\n})();` : body;
      return cached(`b\0${params.join(",")}\0${code}`, () => {
        try {
          return vm.compileFunction(code, [...params], { parsingContext: context }) as (...args: unknown[]) => unknown;
        } catch (error) {
          throw compileError(error, options.origin);
        }
      });
    },
    compileFunctionValue(source, origin) {
      return cached(`f\0${source}`, () => {
        let fn: unknown;
        try {
          fn = vm.runInContext(`(${source}\n)`, context, { timeout: DEFAULT_CODE_TIMEOUT_MS, filename: origin ?? "atomiton:function" });
        } catch (error) {
          throw compileError(error, origin);
        }
        if (typeof fn !== "function") {
          throw new AtomitonError(ErrorCode.CODE, `${origin ? `${origin}: ` : ""}expected a function such as \`item => item.value\`, got ${typeof fn}`, { retryable: false });
        }
        return fn as (...args: unknown[]) => unknown;
      });
    },
    call(fn, args, timeoutMs = DEFAULT_CODE_TIMEOUT_MS) {
      globals.__atomiton_fn = fn;
      globals.__atomiton_args = args;
      try {
        return CALLER.runInContext(context, { timeout: timeoutMs }) as ReturnType<typeof fn>;
      } catch (error) {
        if ((error as { code?: string } | null | undefined)?.code === "ERR_SCRIPT_EXECUTION_TIMEOUT") {
          throw new TimeoutError(`JavaScript ran longer than ${timeoutMs}ms (infinite loop?)`, { retryable: false, cause: error });
        }
        throw error;
      } finally {
        globals.__atomiton_fn = undefined;
        globals.__atomiton_args = undefined;
      }
    },
  };
}
