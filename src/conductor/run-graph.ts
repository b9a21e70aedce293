import { setMaxListeners } from "node:events";
import { performance as clock } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { AtomitonError, CancelledError, ErrorCode, TimeoutError, toNodeError, toSerializedError, type SerializedError } from "../errors.js";
import type { LogLevel, NodeFinishEvent, NodeStatus, StatusCounts } from "../events/event-map.js";
import { nodeHash } from "./node-hash.js";
import { NodeFlag, type CompiledGraph, type CompiledNode } from "./compile-graph.js";
import { NodeCtx } from "./node-context.js";
import { resolveParameters, staticParameters } from "./resolve-parameters.js";
import { retryDelay, shouldRetry } from "./retry.js";
import type { RunState } from "./run-state.js";
import { ReadyQueue } from "./ready-queue.js";
import { raceSignal } from "../race-signal.js";
import { pauseBefore, pauseOnFailure } from "./node-debug.js";

// Internal node states (a Uint8Array per graph run).
const PENDING = 0;
const RUNNING = 1;
const SUCCEEDED = 2;
const FAILED = 3; // failed with onError: fail
const CONTINUED = 4; // failed with onError: continue — passes null on
const ROUTED = 5; // failed with onError: route — only the error port fires
const SKIPPED = 6;
const CANCELLED = 7;

const STATUS_NAME: readonly NodeStatus[] = ["cancelled", "cancelled", "succeeded", "failed", "failed", "failed", "skipped", "cancelled"];

/** Marks an input edge whose value never came (skipped source, unfired port). */
const INACTIVE = Symbol("inactive");

export interface GraphOutcome {
  status: "succeeded" | "failed" | "cancelled";
  output: unknown;
  error?: SerializedError;
  /** The original error object of the failure, when there was one. */
  cause?: unknown;
  failedNode?: string;
}

export interface GraphRunOptions {
  /** The enclosing scope's signal (absent when nothing can cancel the run from outside). */
  signal?: AbortSignal;
  concurrency: number;
  iteration?: number;
  item?: unknown;
  index?: number;
  /** Only run these nodes (a parallel branch). */
  mask?: Uint8Array;
  /** `$nodes` of the enclosing graph (outer outputs stay visible in bodies). */
  parentNodes?: Record<string, unknown>;
}

/** Per-node facts kept for the run result. */
export interface NodeOutcome {
  status: NodeStatus;
  durationMs: number;
  attempts: number;
  output?: unknown;
  error?: SerializedError;
  reason?: string;
}

/**
 * One execution of a compiled graph: a Kahn ready-queue (min-heap on declaration order) that
 * starts nodes as their dependencies finish, at most `concurrency` at a time. See ARCHITECTURE.md.
 */
export class GraphRun {
  readonly iteration: number | undefined;
  private readonly status: Uint8Array;
  private readonly values: unknown[];
  // Rarely used per-node facts: allocated on first write.
  private ports: (Record<string, unknown> | undefined)[] | undefined;
  private errors: (SerializedError | undefined)[] | undefined;
  private reasons: (string | undefined)[] | undefined;
  /** A node's start time while it runs, its duration once it finished (one array, one cache line). */
  private readonly times: Float64Array;
  private readonly attempts: Uint16Array;
  private readonly hashes: (string | undefined)[] | undefined;
  private readonly indegree: Int32Array;
  private readonly ready: ReadyQueue;
  /**
   * Nodes' cancellation signal, made on first read: an AbortController costs more than running a
   * small graph, and most nodes never look at their signal. Until then `aborted`/`abortReason`
   * hold the state, and a controller made later is aborted at birth.
   */
  private controller: AbortController | undefined;
  private aborted = false;
  private abortReason: unknown;
  /** Finished nodes in order, tracked only once `$nodes` was first read. */
  private finishOrder: number[] | undefined;
  /** The clock read by the node that just finished: nodes started in the same pump reuse it. */
  private lastNow = -1;
  private settledCount = 0;
  private running = 0;
  private remaining: number;
  private pumping = false;
  private settled = false;
  private nodesScope: Record<string, unknown> | undefined;
  private readonly reusedMask: Uint8Array | undefined;
  private nodesScopeFilled = 0;
  private resolve!: (outcome: GraphOutcome) => void;
  private outcome: GraphOutcome | undefined;
  /** `run.emitStart`/`emitFinish`, read once per graph (checked for every node). */
  private readonly emitsStart: boolean;
  private readonly emitsFinish: boolean;
  /** Listens to the parent's signal; made only when there is one. */
  private onParentAbort: (() => void) | undefined;

  constructor(
    readonly run: RunState,
    readonly graph: CompiledGraph,
    private readonly input: unknown,
    private readonly options: GraphRunOptions,
  ) {
    const n = graph.nodes.length;
    this.iteration = options.iteration;
    this.emitsStart = run.emitStart;
    this.emitsFinish = run.emitFinish;
    // The per-node numbers share one zeroed buffer: one allocation per graph run instead of four.
    const buffer = new ArrayBuffer(n * 15);
    this.times = new Float64Array(buffer, 0, n);
    this.indegree = new Int32Array(buffer, n * 8, n);
    this.attempts = new Uint16Array(buffer, n * 12, n);
    this.status = new Uint8Array(buffer, n * 14, n);
    this.values = new Array<unknown>(n);
    this.ready = new ReadyQueue(Math.min(n, 1024));
    // Cache keys only for the top-level graph of a recorded run (loop bodies are reused as a whole).
    this.hashes = run.hashing && options.iteration === undefined && !options.mask && !options.parentNodes ? new Array<string | undefined>(n) : undefined;
    this.reusedMask = this.hashes && run.resume ? new Uint8Array(n) : undefined;
    const mask = options.mask;
    if (mask) {
      this.remaining = 0;
      for (let i = 0; i < n; i++) {
        if (!mask[i]) continue;
        this.remaining++;
        for (const s of graph.successors[i]!) if (mask[s]) this.indegree[s]!++;
      }
    } else {
      this.indegree.set(graph.indegree);
      this.remaining = n;
    }
  }

  /** Run the graph to completion. Never rejects: failures are in the outcome. */
  execute(): Promise<GraphOutcome> {
    return new Promise<GraphOutcome>((resolve) => {
      this.resolve = resolve;
      const parent = this.options.signal;
      if (parent) {
        if (parent.aborted) {
          this.abortAll(parent.reason, false);
          return;
        }
        this.onParentAbort = () => this.abortAll(parent.reason, false);
        parent.addEventListener("abort", this.onParentAbort, { once: true });
      }
      const mask = this.options.mask;
      if (mask) {
        for (let i = 0; i < this.indegree.length; i++) if (this.indegree[i] === 0 && mask[i]) this.ready.push(i);
      } else {
        for (const root of this.graph.roots) this.ready.push(root);
      }
      this.pump();
    });
  }

  /** The signal nodes of this graph see (`ctx.signal`), made on first read. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      // Every running node may listen (a delay, a child process): up to `concurrency` listeners is no leak.
      setMaxListeners(0, this.controller.signal);
      if (this.aborted) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  private abortSignal(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  /** Outcomes per node id (for the run result). */
  nodeOutcomes(): Map<string, NodeOutcome> {
    const out = new Map<string, NodeOutcome>();
    const mask = this.options.mask;
    for (let i = 0; i < this.graph.nodes.length; i++) {
      if (mask && !mask[i]) continue;
      const o: NodeOutcome = { status: STATUS_NAME[this.status[i]!]!, durationMs: round(this.times[i]!), attempts: this.attempts[i]! };
      const s = this.status[i]!;
      if (s === SUCCEEDED && this.values[i] !== undefined) o.output = this.ports?.[i] ?? this.values[i];
      if (this.errors?.[i]) o.error = this.errors[i]!;
      if (this.reasons?.[i]) o.reason = this.reasons[i]!;
      out.set(this.graph.nodes[i]!.node.id, o);
    }
    return out;
  }

  /** Final states counted by status (top-level nodes of this graph). */
  statusCounts(): StatusCounts {
    // Tally the internal states in a small typed array (no keyed property writes per node), then name them.
    const byState = new Int32Array(8);
    const status = this.status;
    const mask = this.options.mask;
    for (let i = 0; i < status.length; i++) if (!mask || mask[i]) byState[status[i]!]!++;
    const counts: StatusCounts = { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 };
    for (let state = 0; state < 8; state++) counts[STATUS_NAME[state]!] += byState[state]!;
    return counts;
  }

  private pump(): void {
    if (this.pumping || this.settled) return;
    this.pumping = true;
    const limit = this.options.concurrency;
    const ready = this.ready;
    if (this.running < limit && ready.size > 0) {
      // One clock read per pump: a node's start is the finish of the node that released it
      // (re-read when a node finished synchronously meanwhile).
      let now = this.lastNow >= 0 ? this.lastNow : clock.now();
      let seen = this.settledCount;
      do {
        if (this.settledCount !== seen) {
          now = this.lastNow >= 0 ? this.lastNow : clock.now();
          seen = this.settledCount;
        }
        const i = ready.pop();
        this.running++;
        this.status[i] = RUNNING;
        this.times[i] = now;
        this.runNode(i);
      } while (this.running < limit && ready.size > 0 && !this.settled);
    }
    this.lastNow = -1;
    this.pumping = false;
    if (this.remaining === 0 && !this.settled) this.finishGraph();
  }

  /** A node reached a final state: release its successors and keep the queue moving. */
  private settle(i: number): void {
    this.running--;
    this.remaining--;
    this.settledCount++;
    if (this.finishOrder) this.finishOrder.push(i);
    const g = this.graph;
    const list = g.succList;
    const end = g.succStart[i + 1]!;
    const indegree = this.indegree;
    const mask = this.options.mask;
    for (let k = g.succStart[i]!; k < end; k++) {
      const s = list[k]!;
      if (mask !== undefined && !mask[s]) continue;
      if (--indegree[s]! === 0) this.ready.push(s);
    }
    this.pump();
  }

  // The node being prepared: `prepare` hands its inputs to `runNode` without allocating.
  private preparedInput: unknown;
  private preparedInputs: Record<string, unknown> | undefined;

  /**
   * The hot path, synchronous: prepare, first attempt, and the finish of a node that returned a
   * plain value; a promise is followed by `finishOrFollow`; failures go to `retryOrFail`.
   */
  private runNode(i: number): void {
    const g = this.graph;
    if ((g.flags[i]! & NodeFlag.PLAIN) !== 0 && this.hashes === undefined && !this.run.intercepts) {
      // Fast path: inputs straight from the flat arrays while every source succeeded; anything
      // else (a skipped or failed source) takes the full path below.
      const from = g.inStart[i]!;
      const to = g.inStart[i + 1]!;
      let input: unknown;
      if (from === to) {
        input = this.input;
      } else if (to - from === 1) {
        const source = g.inFrom[from]!;
        if (this.status[source] !== SUCCEEDED) return this.runNodeFull(i);
        input = this.values[source];
      } else {
        const values = new Array<unknown>(to - from);
        for (let k = from; k < to; k++) {
          const source = g.inFrom[k]!;
          if (this.status[source] !== SUCCEEDED) return this.runNodeFull(i);
          values[k - from] = this.values[source];
        }
        input = values;
      }
      let out: unknown;
      try {
        this.attempts[i] = 1;
        if (this.emitsStart) this.emitStart(i, 1);
        let params = g.params[i];
        if (params === undefined) params = g.params[i] = staticParameters(g.nodes[i]!);
        out = g.defs[i]!.execute(new NodeCtx(this, i, input, undefined, params, 1) as never);
      } catch (error) {
        void this.retryOrFail(g.nodes[i]!, i, input, undefined, 1, error);
        return;
      }
      this.finishOrFollow(i, out);
      return;
    }
    this.runNodeFull(i);
  }

  /** Every rule: skips, `--resume`, `enabled`, `if:`, timeouts, retries, templated parameters. */
  private runNodeFull(i: number): void {
    const cn = this.graph.nodes[i]!;
    let input: unknown;
    let inputs: Record<string, unknown> | undefined;
    let out: unknown;
    try {
      if (!this.prepare(cn, i)) return;
      input = this.preparedInput;
      inputs = this.preparedInputs;
      if (this.run.debug !== undefined && pauseBefore(this, cn, i, input, inputs)) return;
      this.attempts[i] = 1;
      if (this.emitsStart) this.emitStart(i, 1);
      out = this.invoke(cn, i, input, inputs, 1);
    } catch (error) {
      void this.retryOrFail(cn, i, input, inputs, 1, error);
      return;
    }
    // Only a node with a retry policy (or under the debugger: `r` retries it) needs its inputs again.
    if ((cn.node.retry !== undefined || this.run.debug !== undefined) && isThenable(out)) void this.awaitFirst(i, out, input, inputs);
    else this.finishOrFollow(i, out);
  }

  /** The first attempt of a node without a retry policy returned `out`: finish now, or when it settles. */
  private finishOrFollow(i: number, out: unknown): void {
    if (out instanceof Promise) {
      // Two small closures on a native promise cost less than an async frame and its await.
      out.then(
        (value: unknown) => this.status[i] === RUNNING && this.finishSucceeded(i, value),
        (error: unknown) => this.retryOrFail(this.graph.nodes[i]!, i, undefined, undefined, 1, error),
      );
    } else if (isThenable(out)) {
      void this.awaitFirst(i, out, undefined, undefined);
    } else if (this.status[i] === RUNNING) {
      this.finishSucceeded(i, out);
    }
  }

  /** A first attempt's thenable (not a native promise, or a node with a retry policy, which keeps its inputs). */
  private async awaitFirst(i: number, pending: PromiseLike<unknown>, input: unknown, inputs: Record<string, unknown> | undefined): Promise<void> {
    let out: unknown;
    try {
      out = await pending;
    } catch (error) {
      return this.retryOrFail(this.graph.nodes[i]!, i, input, inputs, 1, error);
    }
    if (this.status[i] === RUNNING) this.finishSucceeded(i, out);
  }

  /**
   * Gather inputs and apply the skip rules, `--resume` reuse, `enabled` and `if:`. Returns false
   * when the node already reached its final state; otherwise leaves its inputs in `prepared*`.
   */
  private prepare(cn: CompiledNode, i: number): boolean {
    const node = cn.node;
    const pin = this.run.pins?.get(node.id);
    if (pin !== undefined) return this.finishPinned(i, pin.output, pin.reason), false;
    // Root nodes get the graph input; otherwise every active edge, grouped by port.
    // `inputs` stays undefined (built lazily by the context) when only the primary port has a value.
    let input: unknown;
    let inputs: Record<string, unknown> | undefined;
    const edges = cn.inEdges;
    const count = edges.length;
    if (count === 0) {
      input = this.input;
    } else if (cn.allPrimary) {
      // Everything enters the primary port: one value, or an array in edge order for several edges.
      if (count === 1) {
        input = this.edgeValue(edges[0]!.from, edges[0]!.fromPort);
        if (input === INACTIVE) return this.finishSkipped(i, this.skipReason(cn)), false;
      } else {
        const values = new Array<unknown>(count);
        let active = 0;
        for (let k = 0; k < count; k++) {
          const e = edges[k]!;
          const v = this.edgeValue(e.from, e.fromPort);
          if (v !== INACTIVE) values[active++] = v;
        }
        if (active === 0) return this.finishSkipped(i, this.skipReason(cn)), false;
        if (active < count) values.length = active;
        input = values;
      }
    } else {
      inputs = this.gatherInputs(cn);
      if (inputs === SKIP_ALL) return this.finishSkipped(i, this.skipReason(cn)), false;
      input = inputs[cn.primaryIn];
    }
    if (this.hashes) {
      const hash = (this.hashes[i] = nodeHash(cn, inputs ?? { [cn.primaryIn]: input }));
      const previous = this.run.resume?.nodes[node.id];
      if (previous && previous.status === "succeeded" && previous.hash === hash && previous.reusable !== false && this.upstreamReused(cn)) {
        return this.finishReused(i, previous.output, this.run.resume!.runId), false;
      }
    }
    if (!node.enabled) return this.finishSkipped(i, "disabled (enabled: false)"), false;
    if (node.if !== undefined && !this.evaluateIf(cn, input, inputs)) return this.finishSkipped(i, `if: ${node.if.trim()} was false`), false;
    this.preparedInput = input;
    this.preparedInputs = inputs;
    return true;
  }

  /** A failed attempt: retry under the node's policy, else fail it by its `onError`. */
  private async retryOrFail(cn: CompiledNode, i: number, input: unknown, inputs: Record<string, unknown> | undefined, attempt: number, error: unknown): Promise<void> {
    const node = cn.node;
    const policy = node.retry;
    for (;;) {
      if (this.status[i] !== RUNNING) return; // cancelled while it ran
      const serialized = toNodeError(error);
      if (this.attempts[i] === 0 || this.aborted || !shouldRetry(policy, attempt, serialized)) {
        if (this.run.debug?.breakOnError && !this.aborted && pauseOnFailure(this, cn, i, input, inputs, attempt, error)) return;
        return this.finishFailed(i, error, serialized);
      }
      const delayMs = retryDelay(policy!, attempt + 1);
      if (this.run.emitRetry) this.run.bus.emit("node:retry", this.withIteration({ runId: this.run.runId, ts: Date.now(), nodeId: node.id, attempt: attempt + 1, maxAttempts: policy!.attempts, delayMs, error: withoutStack(serialized) }));
      try {
        await sleep(delayMs, undefined, { signal: this.signal });
      } catch {
        return; // the graph was aborted while waiting; abortAll recorded this node
      }
      attempt++;
      this.attempts[i] = attempt;
      if (this.emitsStart) this.emitStart(i, attempt);
      try {
        let out = this.invoke(cn, i, input, inputs, attempt);
        if (isThenable(out)) out = await out;
        if (this.status[i] === RUNNING) this.finishSucceeded(i, out);
        return;
      } catch (next) {
        error = next;
      }
    }
  }

  /** Call the node: returns its result, or a promise of it (the common sync path allocates no extra promise). */
  private invoke(cn: CompiledNode, i: number, input: unknown, inputs: Record<string, unknown> | undefined, attempt: number): unknown {
    if (cn.node.timeout !== undefined) return this.invokeWithTimeout(cn, i, input, inputs, attempt, cn.node.timeout);
    return cn.def.execute(this.createContext(cn, i, input, inputs, undefined, attempt) as never);
  }

  private async invokeWithTimeout(cn: CompiledNode, i: number, input: unknown, inputs: Record<string, unknown> | undefined, attempt: number, ms: number): Promise<unknown> {
    const timeoutController = new AbortController();
    const timer = setTimeout(() => timeoutController.abort(new TimeoutError(`node "${cn.node.id}" timed out after ${formatMs(ms)}`, { retryable: true })), ms);
    try {
      const signal = AbortSignal.any([this.signal, timeoutController.signal]);
      const ctx = this.createContext(cn, i, input, inputs, signal, attempt);
      ctx.timeoutMs = ms;
      const result = cn.def.execute(ctx as never);
      return isThenable(result) ? await raceSignal(result, timeoutController.signal) : result;
    } finally {
      clearTimeout(timer);
    }
  }

  /** `signal` undefined: the graph's own, made only if the node reads it. */
  private createContext(cn: CompiledNode, i: number, input: unknown, inputs: Record<string, unknown> | undefined, signal: AbortSignal | undefined, attempt: number): NodeCtx {
    const ctx = new NodeCtx(this, i, input, inputs, undefined, attempt);
    if (signal !== undefined) ctx.signal = signal;
    ctx.parameters = cn.staticParams !== undefined ? cn.staticParams.value : resolveParameters(this.run, cn, ctx);
    if (cn.body) this.attachBody(cn, ctx);
    return ctx;
  }

  private attachBody(cn: CompiledNode, ctx: NodeCtx): void {
    const body = cn.body!;
    const info = { branches: body.roots.length } as { branches: number; parallelConcurrency?: number };
    if (cn.parallelConcurrency !== undefined) info.parallelConcurrency = cn.parallelConcurrency;
    ctx.body = info;
    ctx.runBody = async (bodyInput, scope = {}) => {
      const options: GraphRunOptions = {
        signal: scope.signal ? AbortSignal.any([ctx.signal, scope.signal]) : ctx.signal,
        concurrency: scope.concurrency ?? this.run.concurrency,
        parentNodes: this.templateNodes(),
      };
      const iteration = scope.index ?? this.iteration;
      if (iteration !== undefined) options.iteration = iteration;
      if ("item" in scope) options.item = scope.item;
      else if (this.options.item !== undefined) options.item = this.options.item;
      if (scope.index !== undefined) options.index = scope.index;
      else if (this.options.index !== undefined) options.index = this.options.index;
      if (scope.branch !== undefined) options.mask = body.branchOf(body.roots[scope.branch]!);
      const outcome = await new GraphRun(this.run, body, bodyInput, options).execute();
      if (outcome.status === "succeeded") return outcome.output;
      const inner = outcome.error ?? { code: ErrorCode.CANCELLED, message: "cancelled", retryable: false };
      const where = `${outcome.failedNode ?? "body"}${scope.index !== undefined ? `[${scope.index}]` : ""}`;
      throw new AtomitonError(inner.code, `${where}: ${inner.message}`, { retryable: inner.retryable, cause: outcome.cause });
    };
  }

  private gatherInputs(cn: CompiledNode): Record<string, unknown> {
    const inputs: Record<string, unknown> = {};
    let active = 0;
    for (const e of cn.inEdges) {
      const v = this.edgeValue(e.from, e.fromPort);
      if (v === INACTIVE) continue;
      active++;
      if (!e.multi) inputs[e.toPort] = v;
      else if (e.toPort in inputs) (inputs[e.toPort] as unknown[]).push(v);
      else inputs[e.toPort] = [v];
    }
    return active === 0 ? SKIP_ALL : inputs;
  }

  private edgeValue(from: number, port: string): unknown {
    const s = this.status[from];
    const source = this.graph.nodes[from]!;
    if (s === SUCCEEDED) {
      const map = this.ports?.[from];
      if (map) return port in map && map[port] !== undefined ? map[port] : INACTIVE;
      return port === source.primaryOut ? this.values[from] : INACTIVE;
    }
    if (s === CONTINUED) return port === source.primaryOut ? null : INACTIVE;
    if (s === ROUTED) return port === "error" ? this.values[from] : INACTIVE;
    return INACTIVE;
  }

  private skipReason(cn: CompiledNode): string {
    const e = cn.inEdges[0]!;
    const source = this.graph.nodes[e.from]!;
    const s = this.status[e.from]!;
    const what = s === SKIPPED ? "was skipped" : s === SUCCEEDED || s === ROUTED ? `did not fire port "${e.fromPort}"` : "failed";
    return `upstream "${source.node.id}" ${what}`;
  }

  private evaluateIf(cn: CompiledNode, input: unknown, inputs: Record<string, unknown> | undefined): boolean {
    const text = cn.node.if!.trim();
    if (text === "true") return true;
    if (text === "false") return false;
    const expr = text.startsWith("{{") && text.endsWith("}}") ? text.slice(2, -2) : text;
    return Boolean(this.run.templates.evaluate(expr, this.templateScope(input, inputs, cn.primaryIn)));
  }

  /** The names templates and code see for a node of this graph. */
  templateScope(input: unknown, inputs: Record<string, unknown> | undefined, primaryIn = "input"): Record<string, unknown> {
    const scope: Record<string, unknown> = {
      $input: input,
      $inputs: inputs ?? { [primaryIn]: input },
      $vars: this.run.vars,
      $env: this.run.env,
      $nodes: this.templateNodes(),
      $now: new Date().toISOString(),
      $run: { id: this.run.runId, startedAt: this.run.startedIso },
      $item: this.options.item,
      $index: this.options.index,
    };
    return scope;
  }

  /**
   * `$nodes`: outputs of finished nodes. The first read scans the states once; after that the
   * finish order is tracked and only new finishes are added (O(n) over the whole run).
   */
  private templateNodes(): Record<string, unknown> {
    if (!this.nodesScope || !this.finishOrder) {
      const scope = (this.nodesScope = Object.create(this.options.parentNodes ?? null) as Record<string, unknown>);
      // onError: continue passes null on, in $nodes as on its edges.
      for (let i = 0; i < this.status.length; i++) if (this.status[i] === SUCCEEDED || this.status[i] === CONTINUED) scope[this.graph.nodes[i]!.node.id] = this.status[i] === CONTINUED ? null : this.values[i];
      this.finishOrder = [];
      this.nodesScopeFilled = 0;
      return scope;
    }
    const scope = this.nodesScope;
    for (; this.nodesScopeFilled < this.finishOrder.length; this.nodesScopeFilled++) {
      const i = this.finishOrder[this.nodesScopeFilled]!;
      if (this.status[i] === SUCCEEDED || this.status[i] === CONTINUED) scope[this.graph.nodes[i]!.node.id] = this.status[i] === CONTINUED ? null : this.values[i];
    }
    return scope;
  }

  /** `--resume` re-runs everything downstream of a node that ran again. */
  private upstreamReused(cn: CompiledNode): boolean {
    if (!this.reusedMask) return true;
    for (const e of cn.inEdges) if (!this.reusedMask[e.from]) return false;
    return true;
  }

  /** `--resume`: the node's earlier output stands in for running it. */
  private finishReused(i: number, out: unknown, reusedFrom: string): void {
    (this.reasons ??= [])[i] = `reused from run ${reusedFrom}`;
    if (this.reusedMask) this.reusedMask[i] = 1;
    this.finishSucceeded(i, out, true);
  }

  /** `--pin` / `replay --from`: the node returns the given value without starting. */
  private finishPinned(i: number, out: unknown, reason: string): void {
    (this.reasons ??= [])[i] = reason;
    this.finishSucceeded(i, out, true);
  }

  private finishSucceeded(i: number, out: unknown, reused = false): void {
    this.status[i] = SUCCEEDED;
    if ((this.graph.flags[i]! & NodeFlag.PORT_MAP) !== 0 && out !== null && typeof out === "object") {
      (this.ports ??= [])[i] = out as Record<string, unknown>;
      this.values[i] = (out as Record<string, unknown>)[this.graph.nodes[i]!.primaryOut];
    } else {
      this.values[i] = out;
    }
    const now = (this.lastNow = clock.now());
    const d = (this.times[i] = now - this.times[i]!);
    if (this.emitsFinish) {
      const e: NodeFinishEvent = { runId: this.run.runId, ts: Date.now(), nodeId: this.graph.nodes[i]!.node.id, status: "succeeded", durationMs: round(d), attempt: this.attempts[i]!, output: this.ports?.[i] ?? out };
      if (this.hashes?.[i] !== undefined) e.hash = this.hashes[i];
      if (reused) {
        e.reused = true;
        e.reason = this.reasons![i]!;
      }
      this.run.bus.emit("node:finish", this.withIteration(e));
    }
    this.settle(i);
  }

  private finishSkipped(i: number, reason: string): void {
    this.lastNow = -1;
    this.status[i] = SKIPPED;
    this.times[i] = 0;
    (this.reasons ??= [])[i] = reason;
    if (this.emitsFinish) {
      this.run.bus.emit("node:finish", this.withIteration({ runId: this.run.runId, ts: Date.now(), nodeId: this.graph.nodes[i]!.node.id, status: "skipped" as const, durationMs: 0, attempt: 0, reason }));
    }
    this.settle(i);
  }

  private finishFailed(i: number, error: unknown, serialized: SerializedError): void {
    const cn = this.graph.nodes[i]!;
    const mode = cn.node.onError;
    this.status[i] = mode === "continue" ? CONTINUED : mode === "route" ? ROUTED : FAILED;
    (this.errors ??= [])[i] = serialized;
    if (mode === "route") this.values[i] = { message: serialized.message, code: serialized.code, nodeId: cn.node.id };
    const now = (this.lastNow = clock.now());
    const d = (this.times[i] = now - this.times[i]!);
    if (this.emitsFinish) {
      const e = { runId: this.run.runId, ts: Date.now(), nodeId: cn.node.id, status: "failed" as const, durationMs: round(d), attempt: this.attempts[i]!, error: withoutStack(serialized) };
      this.run.bus.emit("node:finish", this.withIteration(e));
    }
    if (mode === "fail") {
      this.outcome = { status: "failed", output: undefined, error: withoutStack(serialized), cause: error, failedNode: cn.node.id };
      this.running--;
      this.remaining--;
      this.abortAll(new CancelledError(`cancelled because node "${cn.node.id}" failed`), true);
      return;
    }
    this.settle(i);
  }

  /** Fail-fast, run timeout or Ctrl-C: abort running nodes, cancel pending ones, resolve now. */
  private abortAll(reason: unknown, internal: boolean): void {
    if (this.settled) return;
    this.abortSignal(reason);
    const text = reason instanceof Error ? reason.message : typeof reason === "string" ? reason : "cancelled";
    const mask = this.options.mask;
    const now = clock.now();
    for (let i = 0; i < this.status.length; i++) {
      if (mask && !mask[i]) continue;
      const s = this.status[i];
      if (s !== PENDING && s !== RUNNING) continue;
      const wasRunning = s === RUNNING;
      this.status[i] = CANCELLED;
      (this.reasons ??= [])[i] = text;
      this.times[i] = wasRunning ? now - this.times[i]! : 0;
      if (this.emitsFinish) {
        this.run.bus.emit("node:finish", this.withIteration({ runId: this.run.runId, ts: Date.now(), nodeId: this.graph.nodes[i]!.node.id, status: "cancelled" as const, durationMs: round(this.times[i]!), attempt: this.attempts[i]!, reason: text }));
      }
    }
    if (!internal) {
      const serialized = toSerializedError(reason);
      const timedOut = serialized.code === ErrorCode.TIMEOUT;
      this.outcome ??= { status: timedOut ? "failed" : "cancelled", output: undefined, error: withoutStack(serialized), cause: reason };
    }
    this.finishGraph();
  }

  private finishGraph(): void {
    if (this.settled) return;
    this.settled = true;
    if (this.onParentAbort) this.options.signal!.removeEventListener("abort", this.onParentAbort);
    if (!this.outcome) this.outcome = { status: "succeeded", output: this.collectOutput() };
    else this.abortSignal(GRAPH_FINISHED);
    this.resolve(this.outcome);
  }

  private collectOutput(): unknown {
    const sinks = this.options.mask ? this.graph.sinks.filter((s) => this.options.mask![s]) : this.graph.sinks;
    if (sinks.length === 1) return this.sinkValue(sinks[0]!);
    const out: Record<string, unknown> = {};
    for (const s of sinks) {
      const st = this.status[s];
      if (st === SUCCEEDED || st === CONTINUED || st === ROUTED) out[this.graph.nodes[s]!.node.id] = this.sinkValue(s);
    }
    return out;
  }

  private sinkValue(i: number): unknown {
    const s = this.status[i];
    if (s === SUCCEEDED) return this.ports?.[i] ?? this.values[i];
    if (s === ROUTED) return this.values[i];
    return s === CONTINUED ? null : undefined;
  }

  emitLog(i: number, level: LogLevel, message: string): void {
    if (!this.run.emitLog) return;
    this.run.bus.emit("node:log", this.withIteration({ runId: this.run.runId, ts: Date.now(), nodeId: this.graph.nodes[i]!.node.id, level, message }));
  }

  emitProgress(i: number, progress: number, message?: string): void {
    if (!this.run.emitProgress) return;
    const e: { runId: string; ts: number; nodeId: string; progress: number; message?: string } = { runId: this.run.runId, ts: Date.now(), nodeId: this.graph.nodes[i]!.node.id, progress: Math.max(0, Math.min(1, progress)) };
    if (message !== undefined) e.message = message;
    this.run.bus.emit("node:progress", this.withIteration(e));
  }

  private emitStart(i: number, attempt: number): void {
    this.run.bus.emit("node:start", this.withIteration({ runId: this.run.runId, ts: Date.now(), nodeId: this.graph.nodes[i]!.node.id, attempt }));
  }

  private withIteration<T extends object>(event: T): T & { iteration?: number } {
    if (this.iteration !== undefined) (event as T & { iteration?: number }).iteration = this.iteration;
    return event;
  }
}

const SKIP_ALL = Object.freeze({}) as Record<string, unknown>;
/** Reason for aborting a graph's controller once it is done (stops stragglers); made once, not per run. */
const GRAPH_FINISHED = new CancelledError("graph finished");

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === "object" && typeof (v as PromiseLike<unknown>).then === "function";
}

function withoutStack(e: SerializedError): SerializedError {
  if (e.stack === undefined) return e;
  const { stack: _stack, ...rest } = e;
  return rest;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function formatMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
