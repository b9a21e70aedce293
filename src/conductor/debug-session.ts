import { setLongTimeout, type LongTimer } from "../js/duration.js";
import type { SerializedError } from "../errors.js";

/** Why the run paused: a `--break` node, `--step`, or a failure under `--break-on-error`. */
export type PauseReason = "breakpoint" | "step" | "error";

/** What the run does with the paused node. */
export type PauseDecision =
  /** Run it (before it started), with these parameters when they were edited. */
  | { action: "run"; parameters?: Record<string, unknown> }
  /** Do not run it: it succeeds with this output (`null` unless given). */
  | { action: "skip"; output: unknown }
  /** Try the failed node again, with these parameters when they were edited. */
  | { action: "retry"; parameters?: Record<string, unknown> }
  /** Let the failure stand (a failed node), or the run ended while paused. */
  | { action: "fail" };

/** The paused node as the conductor hands it over: facts, and what can be asked of it. */
export interface PauseTarget {
  runId: string;
  nodeId: string;
  type: string;
  /** Loop bodies: the iteration, and the `$item` / `$index` its templates see. */
  iteration?: number;
  item?: unknown;
  index?: number;
  /** The attempt about to run, or the one that failed (`--break-on-error`): 0 when it failed before it started (its `if:` threw). */
  attempt: number;
  /** Inputs by port. */
  inputs: Record<string, unknown>;
  /** The failure (`--break-on-error`). */
  error?: SerializedError;
  /** Parameters as resolved for this execution (templates rendered, schema defaults filled), or why they cannot be. */
  resolveParameters(): { ok: true; parameters: Record<string, unknown> } | { ok: false; message: string };
  /** Parse edited parameters by the node's schema: the parsed value, or the problems. */
  checkParameters(parameters: Record<string, unknown>): { ok: true; parameters: Record<string, unknown> } | { ok: false; message: string };
  /** Evaluate an expression in the node's template scope (same sandbox as templates). Throws E_TEMPLATE. */
  evaluate(expression: string): unknown;
  /** `$nodes.<id>`: an upstream (or enclosing graph's) output. */
  output(nodeId: string): { found: boolean; value?: unknown };
}

/**
 * One pause: what the prompt (or the protocol client) reads and the commands it gives. Exactly one
 * of `go`, `step`, `skip`, `retry`, `fail` ends it; `set` may come any number of times before.
 */
export class Pause {
  readonly done: Promise<PauseDecision>;
  private settle!: (decision: PauseDecision) => void;
  private edited: Record<string, unknown> | undefined;
  private ended = false;

  constructor(
    readonly target: PauseTarget,
    readonly reason: PauseReason,
    private readonly session: DebugSession,
  ) {
    this.done = new Promise((resolve) => (this.settle = resolve));
  }

  get nodeId(): string {
    return this.target.nodeId;
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  /** The parameters the node will run with: the edited ones, else the resolved ones. */
  parameters(): { ok: true; parameters: Record<string, unknown> } | { ok: false; message: string } {
    return this.edited ? { ok: true, parameters: this.edited } : this.target.resolveParameters();
  }

  /** `set <param>=<value>`: checked by the node's schema; on a problem nothing changes. */
  set(param: string, value: unknown): { ok: true; parameters: Record<string, unknown> } | { ok: false; message: string } {
    const current = this.parameters();
    const base = current.ok ? current.parameters : {};
    const candidate = setPath(base, param, value);
    const checked = this.target.checkParameters(candidate);
    if (checked.ok) this.edited = checked.parameters;
    return checked;
  }

  evaluate(expression: string): unknown {
    return this.target.evaluate(expression);
  }

  /** `c`: run it (or let a failure stand) and stop only at breakpoints from now on. */
  go(): void {
    this.session.stepping = false;
    this.end(this.reason === "error" ? { action: "fail" } : this.runDecision("run"));
  }

  /** `s`: run it and pause again before the next node that starts. */
  step(): void {
    this.session.stepping = true;
    this.end(this.reason === "error" ? { action: "fail" } : this.runDecision("run"));
  }

  /** `k [json]`: the node does not run and outputs `output` (default `null`). */
  skip(output: unknown = null): void {
    this.end({ action: "skip", output });
  }

  /** `r`: a failed node runs again with the (edited) parameters. Only for `--break-on-error` pauses. */
  retry(): boolean {
    if (this.reason !== "error") return false;
    this.end(this.runDecision("retry"));
    return true;
  }

  /** The run ended (cancelled) while paused: release the node, it will not run. */
  abandon(): void {
    this.end({ action: "fail" });
  }

  private runDecision(action: "run" | "retry"): PauseDecision {
    return this.edited ? { action, parameters: this.edited } : { action };
  }

  private end(decision: PauseDecision): void {
    if (this.ended) return;
    this.ended = true;
    this.settle(decision);
  }
}

export interface DebugSessionOptions {
  /** Node ids to pause before (in any body: a loop-body node pauses per iteration). */
  breakpoints?: Iterable<string>;
  /** Pause before every node (`--step`). */
  step?: boolean;
  /** Pause when a node fails for good, before the failure is applied (`--break-on-error`). */
  breakOnError?: boolean;
  /** Each pause, one at a time; the run's new nodes wait until it ends. */
  onPause(pause: Pause): void;
}

/**
 * Breakpoints and stepping for one or more runs (watch mode keeps one session across re-runs).
 * The conductor asks `beforeNode` / `onFailure` for every node it is about to start or fail; while
 * a pause is open no new node starts in any graph of the run (they wait here), and nodes already
 * running finish. Pauses are shown one at a time, in the order the nodes reached them.
 */
export class DebugSession {
  readonly breakpoints: Set<string>;
  stepping: boolean;
  breakOnError: boolean;
  private active: Pause | undefined;
  /** Nodes waiting for the open pause to end; called with true when the run ended instead. */
  private waiters: ((released: boolean) => void)[] = [];
  private readonly onPause: (pause: Pause) => void;
  private readonly pauseListeners = new Set<(paused: boolean) => void>();

  constructor(options: DebugSessionOptions) {
    this.breakpoints = new Set(options.breakpoints ?? []);
    this.stepping = options.step ?? false;
    this.breakOnError = options.breakOnError ?? false;
    this.onPause = options.onPause;
  }

  /** Replace the breakpoints (`debug.setBreakpoints`); `step`/`breakOnError` when given. */
  setBreakpoints(nodeIds: Iterable<string>, options: { step?: boolean; breakOnError?: boolean } = {}): void {
    this.breakpoints.clear();
    for (const id of nodeIds) this.breakpoints.add(id);
    if (options.step !== undefined) this.stepping = options.step;
    if (options.breakOnError !== undefined) this.breakOnError = options.breakOnError;
  }

  /** Calls `listener(true)` when a pause opens and `listener(false)` when it ends; returns the unsubscribe. */
  onPauseChange(listener: (paused: boolean) => void): () => void {
    this.pauseListeners.add(listener);
    return () => this.pauseListeners.delete(listener);
  }

  private pausedChanged(paused: boolean): void {
    for (const listener of this.pauseListeners) listener(paused);
  }

  /** The open pause, if any. */
  get current(): Pause | undefined {
    return this.active;
  }

  /**
   * A node is about to start. `undefined`: go on at once (the usual case, no promise made); else
   * the decision once its pause ends, or once the open pause of another node ended and this one
   * does not pause (`run`).
   */
  beforeNode(target: () => PauseTarget, nodeId: string): Promise<PauseDecision> | undefined {
    if (this.active !== undefined) return this.wait().then((released) => (released ? FAIL : (this.beforeNode(target, nodeId) ?? RUN)));
    if (!this.stepping && !this.breakpoints.has(nodeId)) return undefined;
    return this.open(target(), this.breakpoints.has(nodeId) ? "breakpoint" : "step");
  }

  /** A node failed for good: with `breakOnError`, pause and ask what to do (`fail` lets it stand). */
  onFailure(target: () => PauseTarget): Promise<PauseDecision> | undefined {
    if (!this.breakOnError) return undefined;
    if (this.active !== undefined) return this.wait().then((released) => (released ? FAIL : (this.onFailure(target) ?? FAIL)));
    return this.open(target(), "error");
  }

  /** The run ended: release the open pause and every waiting node (they will not run). */
  release(): void {
    this.active?.abandon();
    if (this.active !== undefined) this.pausedChanged(false);
    this.active = undefined;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(true);
  }

  private open(target: PauseTarget, reason: PauseReason): Promise<PauseDecision> {
    const pause = new Pause(target, reason, this);
    this.active = pause;
    this.pausedChanged(true);
    const done = pause.done.then((decision) => {
      if (this.active === pause) {
        this.active = undefined;
        this.pausedChanged(false);
      }
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w(false);
      return decision;
    });
    this.onPause(pause);
    return done;
  }

  private wait(): Promise<boolean> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

const RUN: PauseDecision = Object.freeze({ action: "run" });
const FAIL: PauseDecision = Object.freeze({ action: "fail" });

/** `set url=…` or `set headers.accept=…`: a copy with the value at that dotted path. */
function setPath(base: Record<string, unknown>, param: string, value: unknown): Record<string, unknown> {
  const keys = param.split(".");
  const out: Record<string, unknown> = { ...base };
  let node = out;
  for (let k = 0; k < keys.length - 1; k++) {
    const key = keys[k]!;
    const next = node[key];
    node = node[key] = next !== null && typeof next === "object" && !Array.isArray(next) ? { ...(next as Record<string, unknown>) } : {};
  }
  node[keys.at(-1)!] = value;
  return out;
}

/** A run timeout of `ms` that does not count the time a debugger pause is open. */
export function pausedWhileDebugging(debug: DebugSession, fn: () => void, ms: number): LongTimer {
  let left = ms;
  let armedAt = performance.now();
  let timer: LongTimer | undefined = setLongTimeout(fn, left);
  const off = debug.onPauseChange((paused) => {
    if (paused && timer !== undefined) {
      timer.clear();
      timer = undefined;
      left -= performance.now() - armedAt;
    } else if (!paused && timer === undefined) {
      armedAt = performance.now();
      timer = setLongTimeout(fn, Math.max(0, left));
    }
  });
  return {
    clear: () => {
      off();
      timer?.clear();
      timer = undefined;
    },
  };
}
