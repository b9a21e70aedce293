import { setMaxListeners } from "node:events";
import { performance as clock } from "node:perf_hooks";
import type { SerializedError } from "../errors.js";
import type { NodeStatus, StatusCounts } from "../events/event-map.js";
import type { CompiledGraph } from "./compile-graph.js";
import { abortAll, finishGraph, nodeOutcomes, statusCounts } from "./graph-end.js";
import { PROFILE_SLOTS, markReady, markStarted } from "./node-profile.js";
import { RUNNING } from "./node-state.js";
import { startNode } from "./node-start.js";
import { ReadyQueue } from "./ready-queue.js";
import type { RunState } from "./run-state.js";

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
 * One execution of a compiled graph: the composite, a loop iteration, a group or a parallel branch.
 * A Kahn ready-queue (smallest declaration index first) starts nodes as their dependencies finish,
 * at most `concurrency` at a time. See ARCHITECTURE.md.
 *
 * This class holds the per-run state and the scheduler (`execute` → `pump` → `settle`); each stage of
 * a node lives in its own file and works on this state:
 *
 *   node-start.ts    startNode: fast path or full path, the first attempt, what follows its result
 *   node-inputs.ts   a node's inputs, skip rules, `--resume` reuse, `enabled`, `if:`
 *   node-attempt.ts  one attempt: context, parameters, body, `execute`
 *   node-timeout.ts  an attempt under the node's `timeout`
 *   node-retry.ts    a failed attempt: retry, or fail by `onError`
 *   node-finish.ts   a node's final state, `node:finish`, release its successors
 *   node-events.ts   every node event (one `node:finish` literal)
 *   graph-end.ts     abort (fail-fast, timeout, Ctrl-C), the graph's outcome and output, per-node outcomes
 *   graph-scope.ts   what templates and code see (`$input`, `$nodes`…)
 *   node-body.ts     a container's body run as a child GraphRun
 *
 * The fields are the stages' shared state (internal to the conductor, not API).
 */
export class GraphRun {
  readonly iteration: number | undefined;
  /** Internal state per node (`node-state.ts`). */
  readonly status: Uint8Array;
  /** Each node's value on its primary output (or its error port's value when routed). */
  readonly values: unknown[];
  // Rarely used per-node facts: allocated on first write.
  ports: (Record<string, unknown> | undefined)[] | undefined;
  errors: (SerializedError | undefined)[] | undefined;
  reasons: (string | undefined)[] | undefined;
  /** Parameters set at a debugger prompt: every later attempt of that node (retries, `r`) runs with them. */
  edited: (Record<string, unknown> | undefined)[] | undefined;
  /** A node's start time while it runs, its duration once it finished (one array, one cache line). */
  readonly times: Float64Array;
  readonly attempts: Uint16Array;
  /** Profiled runs only: per node, ready time then queue wait, CPU µs, heap bytes (`node-profile.ts`). */
  readonly profile: Float64Array | undefined;
  /** Cache keys (`--resume`), only for the top-level graph of a recorded run. */
  readonly hashes: (string | undefined)[] | undefined;
  readonly reusedMask: Uint8Array | undefined;
  /** Plain nodes (`NodeFlag.PLAIN`) may take the fast path: the run allows it and this graph is not hashed. */
  readonly fastPath: boolean;
  private readonly indegree: Int32Array;
  private readonly ready: ReadyQueue;
  /**
   * Nodes' cancellation signal, made on first read: an AbortController costs more than running a
   * small graph, and most nodes never look at their signal. Until then `aborted`/`abortReason`
   * hold the state, and a controller made later is aborted at birth.
   */
  private controller: AbortController | undefined;
  aborted = false;
  private abortReason: unknown;
  /** Finished nodes in order, tracked only once `$nodes` was first read. */
  finishOrder: number[] | undefined;
  nodesScope: Record<string, unknown> | undefined;
  nodesScopeFilled = 0;
  /** The clock read by the node that just finished: nodes started in the same pump reuse it. */
  lastNow = -1;
  running = 0;
  remaining: number;
  private pumping = false;
  settled = false;
  resolve!: (outcome: GraphOutcome) => void;
  outcome: GraphOutcome | undefined;
  /** `run.emitStart`/`emitFinish`, read once per graph (checked for every node). */
  readonly emitsStart: boolean;
  readonly emitsFinish: boolean;
  /** Node durations are seen (events, a record, a profile, the debugger): each start reads the clock when it must (`pump`). */
  readonly exactTimes: boolean;
  /** Listens to the parent's signal; made only when there is one. */
  private onParentAbort: (() => void) | undefined;
  // The node being prepared: `prepareInputs` hands its inputs to `startNode` without allocating.
  preparedInput: unknown;
  preparedInputs: Record<string, unknown> | undefined;

  constructor(
    readonly run: RunState,
    readonly graph: CompiledGraph,
    readonly input: unknown,
    readonly options: GraphRunOptions,
  ) {
    const n = graph.nodes.length;
    this.iteration = options.iteration;
    this.emitsStart = run.emitStart;
    this.emitsFinish = run.emitFinish;
    this.exactTimes = run.emitFinish || run.hashing || run.profile === true || run.debug !== undefined;
    // The per-node numbers share one zeroed buffer: one allocation per graph run instead of four.
    const buffer = new ArrayBuffer(n * 15);
    this.times = new Float64Array(buffer, 0, n);
    this.indegree = new Int32Array(buffer, n * 8, n);
    this.attempts = new Uint16Array(buffer, n * 12, n);
    this.status = new Uint8Array(buffer, n * 14, n);
    this.values = new Array<unknown>(n);
    this.profile = run.profile ? new Float64Array(n * PROFILE_SLOTS) : undefined;
    this.ready = new ReadyQueue(Math.min(n, 1024));
    // Cache keys only for the top-level graph of a recorded run (loop bodies are reused as a whole).
    this.hashes = run.hashing && options.iteration === undefined && !options.mask && !options.parentNodes ? new Array<string | undefined>(n) : undefined;
    this.reusedMask = this.hashes && run.resume ? new Uint8Array(n) : undefined;
    this.fastPath = run.fastPath && this.hashes === undefined;
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
        if (parent.aborted) return abortAll(this, parent.reason, false);
        this.onParentAbort = () => abortAll(this, parent.reason, false);
        parent.addEventListener("abort", this.onParentAbort, { once: true });
      }
      this.queueRoots();
      this.pump();
    });
  }

  /** A body of one of this graph's container nodes, run as a graph of its own. */
  child(body: CompiledGraph, input: unknown, options: GraphRunOptions): GraphRun {
    return new GraphRun(this.run, body, input, options);
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

  abortSignal(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  /** The graph is done: stop listening to the parent's signal. */
  stopListening(): void {
    if (this.onParentAbort) this.options.signal!.removeEventListener("abort", this.onParentAbort);
  }

  /** Outcomes per node id (for the run result). */
  nodeOutcomes(): Map<string, NodeOutcome> {
    return nodeOutcomes(this);
  }

  /** Final states counted by status (top-level nodes of this graph). */
  statusCounts(): StatusCounts {
    return statusCounts(this);
  }

  private queueRoots(): void {
    const mask = this.options.mask;
    if (this.profile) {
      const now = clock.now();
      for (let i = 0; i < this.indegree.length; i++) this.profile[i * PROFILE_SLOTS] = now;
    }
    if (mask) {
      for (let i = 0; i < this.indegree.length; i++) if (this.indegree[i] === 0 && mask[i]) this.ready.push(i);
    } else {
      for (const root of this.graph.roots) this.ready.push(root);
    }
  }

  /**
   * Start ready nodes while fewer than `concurrency` run. Re-entrancy guarded: a node that finishes
   * synchronously settles inside this loop without recursion, so a long chain never grows the stack.
   */
  private pump(): void {
    if (this.pumping || this.settled) return;
    this.pumping = true;
    const limit = this.options.concurrency;
    const ready = this.ready;
    const profile = this.profile;
    // Few clock reads per pump: a node's start is the finish of the node that released it, or of one
    // that finished synchronously meanwhile (`lastNow`, set by every finish that read the clock). A
    // node still running when startNode returns spent an unknown time in its synchronous part (a
    // sandbox compiling its code): where durations are seen (`exactTimes`), the next start reads the
    // clock again, or its duration would count that time too. Where nobody sees them (a silent run
    // without a record: only RunResult's per-node durations), that read is left out: it was +19% on
    // the `fan-out 1k c=∞ · silent` bench row (a clock read per async start, docs/performance.md).
    while (this.running < limit && ready.size > 0 && !this.settled) {
      const i = ready.pop();
      this.running++;
      this.status[i] = RUNNING;
      const now = this.lastNow >= 0 ? this.lastNow : (this.lastNow = clock.now());
      this.times[i] = now;
      if (profile !== undefined) markStarted(profile, i, now);
      startNode(this, i);
      if (this.exactTimes && this.status[i] === RUNNING) this.lastNow = -1;
    }
    this.lastNow = -1;
    this.pumping = false;
    if (this.remaining === 0 && !this.settled) finishGraph(this);
  }

  /** A node reached a final state: release its successors and keep the queue moving. */
  settle(i: number): void {
    this.running--;
    this.remaining--;
    if (this.finishOrder) this.finishOrder.push(i);
    const g = this.graph;
    const list = g.succList;
    const end = g.succStart[i + 1]!;
    const indegree = this.indegree;
    const mask = this.options.mask;
    for (let k = g.succStart[i]!; k < end; k++) {
      const s = list[k]!;
      if (mask !== undefined && !mask[s]) continue;
      if (--indegree[s]! === 0) {
        if (this.profile !== undefined) markReady(this.profile, s, this.lastNow);
        this.ready.push(s);
      }
    }
    this.pump();
  }
}
