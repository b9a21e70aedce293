import type { Copier } from "./copy-value.js";
import type { ApplyOperation } from "./transform-operations.js";

/** How a throw inside the sandbox crosses out: its text only (or the primitive thrown). */
export type ThrownRecord = { primitive: true; value: unknown } | { primitive: false; name?: string; message: string; stack?: string; code?: string; retryable?: boolean };

/** The outcome of one call, made inside the sandbox; `value` is already a host copy. */
export type CallRecord = { ok: true; value: unknown } | { ok: false; error: ThrownRecord };

/** One pending call: the host hands it over with `prepare`, the trampoline takes it once. */
export interface PendingCall {
  fn: unknown;
  args: unknown[];
  /** The host's copier: turns the result into a host value, inside the time limit. */
  out: (value: unknown) => unknown;
  /** Async calls: receives the record when the returned promise settles. */
  settle?: (record: CallRecord) => void;
}

/** What the sandbox keeps of its realm: functions made inside it, called only by the host. */
export interface RealmKit {
  prepare(call: PendingCall): void;
  /** Copies of host arguments; those at `lazyIndexes` become views copied entry by entry. */
  args(values: readonly unknown[], lazyIndexes: readonly number[]): unknown[];
  /** A scope for `with`: each name copied when first read, `$nodes` entry by entry. */
  scope(values: object): object;
  readonly applyOperation: ApplyOperation;
  /** Delete global names user code added; false when one cannot be deleted. */
  sweep(names: readonly (string | symbol)[]): boolean;
  /** The realm's `Object.prototype` (for the host's copier). */
  readonly objectPrototype: object;
}

/** The global the trampoline script calls. It takes the pending call once, so calling it again finds nothing. */
export const TRAMPOLINE = "__atomiton_call";

/**
 * Build the kit inside the realm, then lock the realm down. Self-contained (no imports, no outer
 * names): sandbox.ts evaluates its source in the vm context with the sources of the copier, the
 * lockdown and the transform operations. Every function here is strict and made by the realm;
 * the only host functions it ever holds are those of the pending call (`out`, `settle`), and it
 * drops them before user code runs.
 */
export function createRealmKit(
  createCopier: (foreignObjectPrototype: object | null) => Copier,
  lockdown: () => void,
  createApplyOperation: () => ApplyOperation,
  hostObjectPrototype: object,
  trampolineName: string,
): RealmKit {
  const { copy, lazy } = createCopier(hostObjectPrototype);
  const applyOperation = createApplyOperation();
  const { apply, deleteProperty } = Reflect;
  const { defineProperty } = Object;
  const MapCtor = Map;
  const PromiseCtor = Promise;
  const promiseResolve = Promise.resolve;
  const promiseThen = Promise.prototype.then;
  const objectPrototype = Object.prototype;
  const LAZY_NAMES = Object.freeze(Object.assign(Object.create(null) as Record<string, true>, { $nodes: true as const }));
  let pending: PendingCall | undefined;

  const read = (error: object, key: string): string | undefined => {
    try {
      const v = (error as Record<string, unknown>)[key];
      return typeof v === "string" ? v : undefined;
    } catch {
      return undefined;
    }
  };
  const describe = (error: unknown): ThrownRecord => {
    if ((typeof error !== "object" && typeof error !== "function") || error === null) {
      return { primitive: true, value: typeof error === "symbol" ? String(error) : error };
    }
    // A thrown non-Error object crosses as its JSON text, as toNodeError would describe it.
    if (Object.prototype.toString.call(error) !== "[object Error]") {
      let text: string;
      try {
        text = JSON.stringify(error) ?? String(error);
      } catch {
        text = "a value was thrown";
      }
      return { primitive: true, value: text };
    }
    const record: ThrownRecord = { primitive: false, message: read(error, "message") ?? "" };
    try {
      const retryable = (error as { retryable?: unknown }).retryable;
      if (typeof retryable === "boolean") record.retryable = retryable;
    } catch {
      // a throwing getter states nothing
    }
    const name = read(error, "name");
    const stack = read(error, "stack");
    const code = read(error, "code");
    if (name !== undefined) record.name = name;
    if (stack !== undefined) record.stack = stack;
    if (code !== undefined) record.code = code;
    return record;
  };
  const finish = (call: PendingCall, ok: boolean, value: unknown): void => {
    let record: CallRecord;
    try {
      record = ok ? { ok: true, value: call.out(value) } : { ok: false, error: describe(value) };
    } catch (error) {
      record = { ok: false, error: describe(error) };
    }
    call.settle!(record);
  };

  const isThenable = (value: unknown): boolean => {
    if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
    return typeof (value as { then?: unknown }).then === "function";
  };

  function trampoline(): CallRecord | undefined {
    const call = pending;
    pending = undefined;
    if (call === undefined) return undefined;
    try {
      const value: unknown = apply(call.fn as (...a: unknown[]) => unknown, undefined, call.args);
      if (call.settle === undefined) {
        if (!isThenable(value)) return { ok: true, value: call.out(value) };
        // A caller that cannot wait (a template, a condition, a sync body): the promise would cross
        // out as {} and its rejection would reach the host unhandled, ending the process. Its
        // outcome is ignored here, and the call fails saying why.
        try {
          apply(promiseThen, apply(promiseResolve, PromiseCtor, [value]), [undefined, () => undefined]);
        } catch {
          // a thenable whose then throws: nothing to silence
        }
        return { ok: false, error: { primitive: false, name: "TypeError", message: "the JavaScript returned a Promise, which is not awaited here (expressions and templates are synchronous; a `code` node awaits it with `async: true` or `await`)" } };
      }
      const promise = apply(promiseResolve, PromiseCtor, [value]) as Promise<unknown>;
      apply(promiseThen, promise, [(v: unknown) => finish(call, true, v), (e: unknown) => finish(call, false, e)]);
      return { ok: true, value: undefined };
    } catch (error) {
      return { ok: false, error: describe(error) };
    }
  }
  defineProperty(globalThis, trampolineName, { value: trampoline, writable: false, enumerable: false, configurable: false });

  lockdown();

  return {
    prepare(call) {
      pending = call;
    },
    args(values, lazyIndexes) {
      const memo = new MapCtor<object, unknown>();
      const out: unknown[] = [];
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        let isLazy = false;
        for (let j = 0; j < lazyIndexes.length; j++) if (lazyIndexes[j] === i) isLazy = true;
        out[i] = isLazy && typeof v === "object" && v !== null ? lazy(v, memo) : copy(v, memo);
      }
      return out;
    },
    scope(values) {
      return lazy(values, new MapCtor<object, unknown>(), LAZY_NAMES);
    },
    applyOperation,
    sweep(names) {
      let all = true;
      for (let i = 0; i < names.length; i++) if (!deleteProperty(globalThis, names[i]!)) all = false;
      return all;
    },
    objectPrototype,
  };
}
