import { performance as clock } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { AtomitonError, CancelledError, ErrorCode, TimeoutError, toSerializedError, type SerializedError } from "../errors.js";
import type { LogLevel, NodeFinishEvent, NodeStatus, StatusCounts } from "../events/event-map.js";
import { nodeHash } from "./node-hash.js";
import type { CompiledGraph, CompiledNode } from "./compile-graph.js";
import { NodeCtx } from "./node-context.js";
import { resolveParameters } from "./resolve-parameters.js";
import { retryDelay, shouldRetry } from "./retry.js";
import type { RunState } from "./run-state.js";
import { ReadyQueue } from "./ready-queue.js";
import { raceSignal } from "../race-signal.js";

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
  signal: AbortSignal;
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
  private readonly started: Float64Array;
  private readonly durations: Float64Array;
  private readonly attempts: Uint16Array;
  private readonly hashes: (string | undefined)[] | undefined;
  private readonly indegree: Int32Array;
  private readonly ready: ReadyQueue;
  private readonly controller = new AbortController();
  /** The controller's signal, read once (the getter is on every node's path). */
  private readonly signal = this.controller.signal;
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
  private readonly onParentAbort = (): void => this.abortAll(this.options.signal.reason, false);

  constructor(
    readonly run: RunState,
    readonly graph: CompiledGraph,
    private readonly input: unknown,
    private readonly options: GraphRunOptions,
  ) {
    const n = graph.nodes.length;
    this.iteration = options.iteration;
    this.status = new Uint8Array(n);
    this.values = new Array<unknown>(n);
    this.started = new Float64Array(n);
    this.durations = new Float64Array(n);
    this.attempts = new Uint16Array(n);
    this.ready = new ReadyQueue(Math.min(n, 1024));
    // Cache keys only for the top-level graph of a recorded run (loop bodies are reused as a whole).
    this.hashes = run.hashing && options.iteration === undefined && !options.mask && !options.parentNodes ? new Array<string | undefined>(n) : undefined;
    this.reusedMask = this.hashes && run.resume ? new Uint8Array(n) : undefined;
    const mask = options.mask;
    if (mask) {
      this.indegree = new Int32Array(n);
      this.remaining = 0;
      for (let i = 0; i < n; i++) {
        if (!mask[i]) continue;
        this.remaining++;
        for (const s of graph.successors[i]!) if (mask[s]) this.indegree[s]!++;
      }
    } else {
      this.indegree = graph.indegree.slice();
      this.remaining = n;
    }
  }

  /** Run the graph to completion. Never rejects: failures are in the outcome. */
  execute(): Promise<GraphOutcome> {
    return new Promise<GraphOutcome>((resolve) => {
      this.resolve = resolve;
      if (this.options.signal.aborted) {
        this.abortAll(this.options.signal.reason, false);
        return;
      }
      this.options.signal.addEventListener("abort", this.onParentAbort, { once: true });
      const mask = this.options.mask;
      for (let i = 0; i < this.indegree.length; i++) if (this.indegree[i] === 0 && (!mask || mask[i])) this.ready.push(i);
      this.pump();
    });
  }

  /** Outcomes per node id (for the run result). */
  nodeOutcomes(): Map<string, NodeOutcome> {
    const out = new Map<string, NodeOutcome>();
    const mask = this.options.mask;
    for (let i = 0; i < this.graph.nodes.length; i++) {
      if (mask && !mask[i]) continue;
      const o: NodeOutcome = { status: STATUS_NAME[this.status[i]!]!, durationMs: round(this.durations[i]!), attempts: this.attempts[i]! };
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
    const counts: StatusCounts = { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 };
    const mask = this.options.mask;
    for (let i = 0; i < this.status.length; i++) if (!mask || mask[i]) counts[STATUS_NAME[this.status[i]!]!]++;
    return counts;
  }

  private pump(): void {
    if (this.pumping || this.settled) return;
    this.pumping = true;
    const limit = this.options.concurrency;
    if (this.running < limit && this.ready.size > 0) {
      // One clock read per pump: a node's start is the finish of the node that released it
      // (re-read when a node finished synchronously meanwhile).
      let now = this.lastNow >= 0 ? this.lastNow : clock.now();
      let seen = this.settledCount;
      while (this.running < limit && this.ready.size > 0 && !this.settled) {
        if (this.settledCount !== seen) {
          now = this.lastNow >= 0 ? this.lastNow : clock.now();
          seen = this.settledCount;
        }
        const i = this.ready.pop();
        this.running++;
        this.status[i] = RUNNING;
        this.started[i] = now;
        void this.runNode(i);
      }
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
    const mask = this.options.mask;
    for (const s of this.graph.successors[i]!) {
      if (mask && !mask[s]) continue;
      if (--this.indegree[s]! === 0) this.ready.push(s);
    }
    this.pump();
  }

  // The node being prepared: `prepare` hands its inputs to `runNode` without allocating.
  private preparedInput: unknown;
  private preparedInputs: Record<string, unknown> | undefined;

  /** The hot path: prepare, first attempt, finish. Retries and failures go to `retryOrFail`. */
  private async runNode(i: number): Promise<void> {
    const cn = this.graph.nodes[i]!;
    let input: unknown;
    let inputs: Record<string, unknown> | undefined;
    let out: unknown;
    try {
      if (!this.prepare(cn, i)) return;
      input = this.preparedInput;
      inputs = this.preparedInputs;
      this.attempts[i] = 1;
      if (this.run.emitStart) this.emitStart(i, 1);
      out = this.invoke(cn, i, input, inputs, 1);
      if (isThenable(out)) out = await out;
    } catch (error) {
      return this.retryOrFail(cn, i, input, inputs, 1, error);
    }
    if (this.status[i] === RUNNING) this.finishSucceeded(i, out);
  }

  /**
   * Gather inputs and apply the skip rules, `--resume` reuse, `enabled` and `if:`. Returns false
   * when the node already reached its final state; otherwise leaves its inputs in `prepared*`.
   */
  private prepare(cn: CompiledNode, i: number): boolean {
    const node = cn.node;
    // Root nodes get the graph input; otherwise every active edge, grouped by port.
    // `inputs` stays undefined (built lazily by the context) when only the primary port has a value.
    let input: unknown;
    let inputs: Record<string, unknown> | undefined;
    const edges = cn.inEdges;
    if (edges.length === 0) {
      input = this.input;
    } else if (cn.allPrimary) {
      // Everything enters the primary port: one value, or an array in edge order for several edges.
      if (edges.length === 1) {
        input = this.edgeValue(edges[0]!.from, edges[0]!.fromPort);
        if (input === INACTIVE) return this.finishSkipped(i, this.skipReason(cn)), false;
      } else {
        const values: unknown[] = [];
        for (const e of edges) {
          const v = this.edgeValue(e.from, e.fromPort);
          if (v !== INACTIVE) values.push(v);
        }
        if (values.length === 0) return this.finishSkipped(i, this.skipReason(cn)), false;
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
        return this.finishSucceeded(i, previous.output, this.run.resume!.runId), false;
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
      const serialized = toSerializedError(error);
      if (this.attempts[i] === 0 || this.signal.aborted || !shouldRetry(policy, attempt, serialized)) {
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
      if (this.run.emitStart) this.emitStart(i, attempt);
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
    return cn.def.execute(this.createContext(cn, i, input, inputs, this.signal, attempt) as never);
  }

  private async invokeWithTimeout(cn: CompiledNode, i: number, input: unknown, inputs: Record<string, unknown> | undefined, attempt: number, ms: number): Promise<unknown> {
    const timeoutController = new AbortController();
    const timer = setTimeout(() => timeoutController.abort(new TimeoutError(`node "${cn.node.id}" timed out after ${formatMs(ms)}`)), ms);
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

  private createContext(cn: CompiledNode, i: number, input: unknown, inputs: Record<string, unknown> | undefined, signal: AbortSignal, attempt: number): NodeCtx {
    const ctx = new NodeCtx(this, i, input, inputs, undefined, signal, attempt);
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
      for (let i = 0; i < this.status.length; i++) if (this.status[i] === SUCCEEDED) scope[this.graph.nodes[i]!.node.id] = this.values[i];
      this.finishOrder = [];
      this.nodesScopeFilled = 0;
      return scope;
    }
    const scope = this.nodesScope;
    for (; this.nodesScopeFilled < this.finishOrder.length; this.nodesScopeFilled++) {
      const i = this.finishOrder[this.nodesScopeFilled]!;
      if (this.status[i] === SUCCEEDED) scope[this.graph.nodes[i]!.node.id] = this.values[i];
    }
    return scope;
  }

  /** `--resume` re-runs everything downstream of a node that ran again. */
  private upstreamReused(cn: CompiledNode): boolean {
    if (!this.reusedMask) return true;
    for (const e of cn.inEdges) if (!this.reusedMask[e.from]) return false;
    return true;
  }

  private finishSucceeded(i: number, out: unknown, reusedFrom?: string): void {
    const cn = this.graph.nodes[i]!;
    this.status[i] = SUCCEEDED;
    if (reusedFrom !== undefined) {
      (this.reasons ??= [])[i] = `reused from run ${reusedFrom}`;
      if (this.reusedMask) this.reusedMask[i] = 1;
    }
    if (cn.portMap && out !== null && typeof out === "object") {
      (this.ports ??= [])[i] = out as Record<string, unknown>;
      this.values[i] = (out as Record<string, unknown>)[cn.primaryOut];
    } else {
      this.values[i] = out;
    }
    const now = (this.lastNow = clock.now());
    const d = (this.durations[i] = now - this.started[i]!);
    if (this.run.emitFinish) {
      const e: NodeFinishEvent = { runId: this.run.runId, ts: Date.now(), nodeId: cn.node.id, status: "succeeded", durationMs: round(d), attempt: this.attempts[i]!, output: this.ports?.[i] ?? out };
      if (this.hashes?.[i] !== undefined) e.hash = this.hashes[i];
      if (reusedFrom !== undefined) {
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
    (this.reasons ??= [])[i] = reason;
    if (this.run.emitFinish) {
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
    const d = (this.durations[i] = now - this.started[i]!);
    if (this.run.emitFinish) {
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
    if (!this.signal.aborted) this.controller.abort(reason);
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
      if (wasRunning) this.durations[i] = now - this.started[i]!;
      if (this.run.emitFinish) {
        this.run.bus.emit("node:finish", this.withIteration({ runId: this.run.runId, ts: Date.now(), nodeId: this.graph.nodes[i]!.node.id, status: "cancelled" as const, durationMs: wasRunning ? round(this.durations[i]!) : 0, attempt: this.attempts[i]!, reason: text }));
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
    this.options.signal.removeEventListener("abort", this.onParentAbort);
    if (!this.outcome) this.outcome = { status: "succeeded", output: this.collectOutput() };
    else if (!this.signal.aborted) this.controller.abort(GRAPH_FINISHED);
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
