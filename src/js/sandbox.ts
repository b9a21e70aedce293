import vm from "node:vm";
import { AtomitonError, ErrorCode, TimeoutError } from "../errors.js";
import { checkBody, checkExpression, findDynamicImport, type SyntaxProblem } from "./check-syntax.js";
import { Realm, toHostError } from "./realm.js";
import type { CallRecord } from "./realm-kit.js";
import type { TransformParams } from "./transform-operations.js";

/** Default time limit for synchronous user JS (templates, code, transform, condition). */
export const DEFAULT_CODE_TIMEOUT_MS = 5_000;

/** A compiled expression, body or function: a handle the sandbox resolves in its current realm. */
export interface SandboxFunction {
  readonly kind: "expression" | "body" | "function";
  /** The user's source, as written. */
  readonly source: string;
}

export interface CallOptions {
  /** Synchronous time limit in ms (default 5 s; 0 means none, for a worker that is killed instead). */
  timeoutMs?: number | undefined;
  /** Arguments copied entry by entry when read (`$nodes`), not all at once. */
  lazy?: readonly number[];
}

/**
 * A `node:vm` context for user JavaScript (templates, code, transform, condition, loop `while`):
 * fresh, frozen built-ins, no `process`, `require`, `import()` or host globals, and no host object
 * reachable. Arguments and scopes enter as copies made by the sandbox's own constructors (each
 * scope name copied when first read); results and errors come back as host copies, so nothing
 * user code does to a value or a prototype reaches the host or the next node. One per run;
 * functions are compiled once and called many times. See docs/security.md for what it does not
 * protect against.
 */
export interface Sandbox {
  /** Compile `expr` as an expression over the names of a scope object. */
  compileExpression(expr: string, origin?: string): SandboxFunction;
  /** Compile a JS function body taking `params`. `async` allows `await`. */
  compileBody(body: string, params: readonly string[], options?: { async?: boolean; origin?: string }): SandboxFunction;
  /** A function-valued expression such as `x => x * 2` or `function (a) { … }`. */
  compileFunctionValue(source: string, origin?: string): SandboxFunction;
  /** Evaluate a compiled expression against `scope` (a name is copied in when the expression reads it). */
  evaluate(fn: SandboxFunction, scope: object, timeoutMs?: number): unknown;
  /** Call a compiled body or function with copies of `args`; an infinite loop becomes E_TIMEOUT. */
  call(fn: SandboxFunction, args: readonly unknown[], options?: CallOptions): unknown;
  /** Call an async body: its promise is awaited inside the sandbox and its value copied out. */
  callAsync(fn: SandboxFunction, args: readonly unknown[], options?: CallOptions): Promise<unknown>;
  /** Run a transform operation over copies of `items`, with an optional compiled item function. */
  transform(items: readonly unknown[], params: TransformParams, fn: SandboxFunction | undefined, timeoutMs?: number): unknown;
}

class Handle implements SandboxFunction {
  realm: Realm | undefined;
  fn: unknown;
  constructor(
    readonly kind: SandboxFunction["kind"],
    readonly source: string,
    readonly key: string,
    readonly make: (realm: Realm) => unknown,
  ) {}
}

export function createSandbox(): Sandbox {
  let realm: Realm | undefined;
  const current = (): Realm => (realm === undefined || realm.tainted ? (realm = new Realm()) : realm);
  // Async bodies run in a realm with its own microtask queue (see Realm): nothing in the sandbox
  // waits on the host, so their whole promise chain runs inside the call, under its time limit.
  let asyncRealm: Realm | undefined;
  const currentAsync = (): Realm => (asyncRealm === undefined || asyncRealm.tainted ? (asyncRealm = new Realm({ microtaskMode: "afterEvaluate" })) : asyncRealm);

  const resolve = (fn: SandboxFunction, r: Realm): unknown => {
    if (!(fn instanceof Handle)) throw new AtomitonError(ErrorCode.INTERNAL, "not a function compiled by this sandbox", { retryable: false });
    if (fn.realm !== r) {
      let compiled = r.compiled.get(fn.key);
      if (compiled === undefined) {
        compiled = fn.make(r);
        r.compiled.set(fn.key, compiled);
      }
      fn.fn = compiled;
      fn.realm = r;
    }
    return fn.fn;
  };
  const handle = (kind: SandboxFunction["kind"], source: string, key: string, make: (r: Realm) => unknown): SandboxFunction => {
    const h = new Handle(kind, source, key, make);
    resolve(h, current()); // compile now: a syntax error is the caller's, not the first call's
    return h;
  };
  const settle = (record: CallRecord): unknown => {
    if (record.ok) return record.value;
    throw withMissingGlobalHint(withCodeLocation(toHostError(record.error)));
  };

  return {
    compileExpression(expr, origin) {
      return handle("expression", expr, `e\0${expr}`, (r) => {
        refuseImport(expr, origin);
        try {
          return vm.compileFunction(`with ($scope) { return (${expr}\n); }`, ["$scope"], { parsingContext: r.context });
        } catch (error) {
          throw compileError(error, checkExpression(expr), origin);
        }
      });
    },
    compileBody(body, params, options = {}) {
      const code = options.async ? `return (async () => {\n${body}\n})();` : body;
      return handle("body", body, `b\0${params.join(",")}\0${code}`, (r) => {
        refuseImport(body, options.origin);
        try {
          // Named, so an error's stack says where in the body it was thrown (withCodeLocation).
          return vm.compileFunction(code, [...params], { parsingContext: r.context, filename: options.async ? ASYNC_BODY_FILE : BODY_FILE });
        } catch (error) {
          throw compileError(error, checkBody(body, { async: options.async === true }), options.origin);
        }
      });
    },
    compileFunctionValue(source, origin) {
      return handle("function", source, `f\0${source}`, (r) => {
        refuseImport(source, origin);
        let thunk: unknown;
        try {
          thunk = vm.compileFunction(`return (\n${source}\n);`, [], { parsingContext: r.context });
        } catch (error) {
          throw compileError(error, checkExpression(source), origin);
        }
        // Evaluated inside the realm: the function stays there; the host only holds it.
        const record = r.run(thunk, [], DEFAULT_CODE_TIMEOUT_MS, { keep: true });
        const fn = record.ok ? record.value : undefined;
        if (!record.ok) throw compileError(toHostError(record.error), undefined, origin);
        if (typeof fn !== "function") {
          throw new AtomitonError(ErrorCode.CODE, `${origin ? `${origin}: ` : ""}expected a function such as \`item => item.value\`, got ${typeof fn}`, { retryable: false });
        }
        return fn;
      });
    },
    evaluate(fn, scope, timeoutMs = DEFAULT_CODE_TIMEOUT_MS) {
      const r = current();
      const compiled = resolve(fn, r);
      return settle(r.run(compiled, [r.kit.scope(scope)], timeoutMs));
    },
    call(fn, args, options = {}) {
      const r = current();
      const compiled = resolve(fn, r);
      return settle(r.run(compiled, r.kit.args(args, options.lazy ?? []), options.timeoutMs ?? DEFAULT_CODE_TIMEOUT_MS));
    },
    callAsync(fn, args, options = {}) {
      return new Promise((resolvePromise, reject) => {
        const r = currentAsync();
        const compiled = resolve(fn, r);
        const ms = options.timeoutMs ?? DEFAULT_CODE_TIMEOUT_MS;
        let timer: NodeJS.Timeout | undefined;
        let settled = false;
        const done = (record: CallRecord): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          try {
            resolvePromise(settle(record));
          } catch (error) {
            reject(error);
          }
        };
        const started = r.run(compiled, r.kit.args(args, options.lazy ?? []), ms, { settle: done });
        if (!started.ok) return done(started);
        // The sandbox has no timers and no I/O: its promises settle in microtasks or never. One that
        // never does would leave nothing to keep the process alive (it exited 13, silently); the
        // time limit covers the wait as it covers the synchronous part.
        if (!settled && ms > 0 && Number.isFinite(ms)) {
          timer = setTimeout(() => {
            if (settled) return;
            settled = true;
            reject(new TimeoutError(`JavaScript's promise did not settle within ${ms}ms (it awaits something that never happens)`, { retryable: false }));
          }, ms);
        }
      });
    },
    transform(items, params, fn, timeoutMs = DEFAULT_CODE_TIMEOUT_MS) {
      const r = current();
      const itemFn = fn === undefined ? undefined : resolve(fn, r);
      const [realmItems, realmParams] = r.kit.args([items, params], []);
      return settle(r.run(r.kit.applyOperation, [realmItems, realmParams, itemFn], timeoutMs));
    },
  };
}

/** The names of compiled code bodies in stacks; an async body sits one line into its wrapper. */
const BODY_FILE = "atomiton:code";
const ASYNC_BODY_FILE = "atomiton:async-code";
const BODY_FRAME = /\bat (?:[^\n]*\()?atomiton:(async-)?code:(\d+):(\d+)\)?/;

/**
 * An error thrown by a code body, with where in the body (the first frame of the user's own code):
 * `x.foo` on null said only "Cannot read properties of null", and a node author had no line to go to.
 * The line and column are the body's own (line 1 is its first line), in `details` and in the hint.
 */
function withCodeLocation(error: unknown): unknown {
  const e = error as { stack?: unknown; hint?: unknown; details?: unknown };
  if (typeof e !== "object" || e === null || typeof e.stack !== "string") return error;
  const frame = BODY_FRAME.exec(e.stack);
  if (!frame) return error;
  const line = Number(frame[2]) - (frame[1] ? 1 : 0);
  const column = Number(frame[3]);
  if (line < 1) return error;
  if (e.hint === undefined) e.hint = `thrown at line ${line}, column ${column} of the code`;
  if (e.details === undefined) e.details = { line, column };
  return error;
}

/**
 * What to use instead of the host globals code most often reaches for: the sandbox has no timers, no
 * I/O and no host objects (docs/security.md), so `await new Promise((r) => setTimeout(r, 300))` fails
 * with "setTimeout is not defined", which read like a bug of ours.
 */
const INSTEAD: Record<string, string> = {
  setTimeout: "to wait, put a `delay` node before or after this one",
  setInterval: "to repeat, use a `loop` node (with a `delay` node in its body to wait)",
  setImmediate: "to wait, put a `delay` node before or after this one",
  fetch: "make the request with an `http-request` node and read its output here",
  require: "read files with a `file-system` node and run programs with `shell-command`; their outputs come here as input",
  process: "the environment is `$env`, and the run's variables `$vars`",
  Buffer: "bytes come into code as a `Uint8Array` (a Buffer input is copied as one)",
};

/** A ReferenceError for a host global the sandbox does not have gets a hint that says what to use instead. */
function withMissingGlobalHint(error: unknown): unknown {
  if (!(error instanceof Error) || error.name !== "ReferenceError") return error;
  const name = /^(\w+) is not defined$/.exec(error.message)?.[1];
  if (name === undefined || !Object.hasOwn(INSTEAD, name)) return error;
  const e = error as Error & { hint?: string };
  const why = `the sandbox has no \`${name}\` (no timers, I/O or host globals): ${INSTEAD[name]}`;
  e.hint = e.hint === undefined ? why : `${e.hint}; ${why}`;
  return error;
}

/** `import()` cannot be refused inside a vm context (its error would be the host's), so code that calls it does not compile. */
function refuseImport(source: string, origin: string | undefined): void {
  const at = findDynamicImport(source);
  if (at >= 0) throw compileError(undefined, { message: "import() is not available in the sandbox", offset: at }, origin);
}

function compileError(error: unknown, problem: SyntaxProblem | undefined, origin: string | undefined): AtomitonError {
  const message = problem?.message ?? (error instanceof Error ? error.message : String(error));
  return new AtomitonError(ErrorCode.CODE, `${origin ? `${origin}: ` : ""}cannot compile JavaScript: ${message}`, {
    retryable: false,
    ...(error === undefined ? {} : { cause: error }),
    hint: "check the syntax of the expression or function body",
  });
}
