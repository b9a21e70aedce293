import vm from "node:vm";
import { TimeoutError } from "../errors.js";
import { createCopier } from "./copy-value.js";
import { lockdown } from "./lockdown.js";
import { createRealmKit, TRAMPOLINE, type CallRecord, type PendingCall, type RealmKit, type ThrownRecord } from "./realm-kit.js";
import { createApplyOperation } from "./transform-operations.js";

// The kit, the copier, the lockdown and the transform operations are evaluated inside each realm
// from their own source, as strict code: everything user code can reach is made by the realm.
let setupScript: vm.Script | undefined;
const setup = (): vm.Script =>
  (setupScript ??= new vm.Script(
    `"use strict";\n(function (kit, copier, lockdown, operations) { return function (hostObjectPrototype, name) { return kit(copier, lockdown, operations, hostObjectPrototype, name); }; })(${createRealmKit.toString()}, ${createCopier.toString()}, ${lockdown.toString()}, ${createApplyOperation.toString()})`,
    { filename: "atomiton:realm" },
  ));
let trampolineScript: vm.Script | undefined;
const trampoline = (): vm.Script => (trampolineScript ??= new vm.Script(`${TRAMPOLINE}()`, { filename: "atomiton:call" }));

/**
 * A promise user code left rejected and unhandled in a realm (`Promise.reject(e)` never awaited, a
 * filter function returning one) is reported to the host process like its own, and Node ends the
 * process on it: a stack trace, the run's record left `running`. Such promises are the realm's
 * (made by its own `Promise`, so not `instanceof` the host's): they are the user code's business, and
 * the node's outcome is what its call returned or threw. The host's own stay fatal, as by default.
 */
let realmRejectionsIgnored = false;
function ignoreRealmRejections(): void {
  if (realmRejectionsIgnored) return;
  realmRejectionsIgnored = true;
  process.on("unhandledRejection", (reason, promise) => {
    if (!(promise instanceof Promise)) return;
    // The host's own: a program that embeds atomiton and listens itself decides; else Node's
    // default (--unhandled-rejections=throw), which a listener switches off, is kept.
    if (process.listenerCount("unhandledRejection") > 1) return;
    if (reason instanceof Error) throw reason;
    throw Object.assign(new Error(`This error originated either by throwing inside of an async function without a catch block, or by rejecting a promise which was not handled with .catch(). The promise rejected with the reason "${String(reason)}".`), { code: "ERR_UNHANDLED_REJECTION" });
  });
}

/**
 * One vm context, locked down, and the host's side of its boundary. Names user code adds to the
 * global object are removed around every call; a name that cannot be removed (defined
 * non-configurable) taints the realm and the sandbox replaces it before the next call.
 */
export class Realm {
  readonly context: vm.Context;
  readonly kit: RealmKit;
  /** Compiled functions of this realm, by source. */
  readonly compiled = new Map<string, unknown>();
  /** Set when user code left state behind that cannot be undone. */
  tainted = false;
  private readonly globals: object;
  private readonly baseline: Set<string | symbol>;
  private readonly copyOut: (value: unknown) => unknown;

  /**
   * `microtaskMode: "afterEvaluate"`: the context has its own microtask queue, drained inside each
   * call under its time limit, so async code (`for (;;) await null;`) is interrupted like sync code
   * instead of starving the host's event loop (timers, signals, the second Ctrl-C).
   */
  constructor(options: { microtaskMode?: "afterEvaluate" } = {}) {
    ignoreRealmRejections();
    this.globals = Object.create(null) as object;
    this.context = vm.createContext(this.globals, { name: "atomiton", codeGeneration: { strings: false, wasm: false }, ...options });
    const make = setup().runInContext(this.context) as (hostObjectPrototype: object, name: string) => RealmKit;
    this.kit = make(Object.prototype, TRAMPOLINE);
    this.baseline = new Set(Reflect.ownKeys(this.globals));
    const copier = createCopier(this.kit.objectPrototype);
    this.copyOut = (value) => (typeof value === "object" && value !== null ? copier.copy(value, new Map()) : copier.copy(value, EMPTY));
  }

  /**
   * Run `fn(...args)` inside the realm with a synchronous time limit (none when `timeoutMs` is 0
   * or not finite). `args` must already be realm values. The result comes back as a host copy;
   * with `settle`, `fn`'s promise is awaited inside the realm and its outcome handed to `settle`;
   * with `keep`, the result stays a realm value (a compiled function the host only holds).
   */
  run(fn: unknown, args: unknown[], timeoutMs: number, options: { settle?: (record: CallRecord) => void; keep?: boolean } = {}): CallRecord {
    const call: PendingCall = { fn, args, out: options.keep ? keep : this.copyOut };
    if (options.settle) call.settle = options.settle;
    this.sweep();
    this.kit.prepare(call);
    try {
      const limited = timeoutMs > 0 && Number.isFinite(timeoutMs);
      return (limited ? trampoline().runInContext(this.context, { timeout: timeoutMs }) : trampoline().runInContext(this.context)) as CallRecord;
    } catch (error) {
      if ((error as { code?: string }).code === "ERR_SCRIPT_EXECUTION_TIMEOUT") {
        throw new TimeoutError(`JavaScript ran longer than ${timeoutMs}ms (infinite loop?)`, { retryable: false, cause: error });
      }
      throw error;
    } finally {
      this.sweep();
    }
  }

  /**
   * Remove the global names user code added. Each one lands on the contextified object (a cheap
   * way to notice) and on the realm's global (where only the realm can delete it).
   */
  private sweep(): void {
    const names = Reflect.ownKeys(this.globals);
    if (names.length === this.baseline.size) return;
    const added = names.filter((name) => !this.baseline.has(name));
    if (!this.kit.sweep(added)) this.tainted = true;
  }
}

const EMPTY = new Map<object, unknown>();
const keep = (value: unknown): unknown => value;

/** A host error for what was thrown inside: a primitive as it is, an object as a new `Error` with its text. */
export function toHostError(record: ThrownRecord): unknown {
  if (record.primitive) return record.value;
  const error = new Error(record.message) as Error & { code?: string; retryable?: boolean };
  if (record.name !== undefined) error.name = record.name;
  if (record.stack !== undefined) error.stack = record.stack;
  if (record.code !== undefined) error.code = record.code;
  if (record.retryable !== undefined) error.retryable = record.retryable;
  return error;
}
